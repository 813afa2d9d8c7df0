"""The WhatsApp channel: Cloud API webhook in, Graph API calls out (httpx)."""
