"""The Telegram channel: webhook or long polling in, Bot API calls out (aiogram 3)."""
