"""The terminal channel: ``salonbot chat``."""
