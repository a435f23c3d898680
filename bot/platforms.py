"""Running the platform adapters whose tokens are set, on one engine, until stopped."""

from __future__ import annotations

from bot.settings import Settings
from memory.errors import ConfigurationError


async def run_platforms(settings: Settings) -> None:
    if not (settings.slack_enabled or settings.discord_enabled):
        raise ConfigurationError(
            "No platform token is set: set SLACK_BOT_TOKEN and/or DISCORD_TOKEN, "
            "or use `bot chat` for a terminal chat."
        )
    raise ConfigurationError("The Slack and Discord adapters are not part of this build yet.")
