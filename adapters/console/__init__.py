"""The terminal adapter: `bot chat`."""
