"""Persistence: tables, repositories and the unit of work. Repositories never commit."""
