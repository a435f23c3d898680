"""Discord as a registered platform (bot.platforms.PLATFORMS): its settings to the adapter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.settings import Settings

if TYPE_CHECKING:  # loaded when the platform opens, not for `bot chat`
    from adapters.discord.runner import DiscordAdapter
    from memory import Delivery, MemoryEngine


class DiscordPlatform:
    """Discord: DISCORD_TOKEN over the gateway (sharded with DISCORD_SHARD_*); no HTTP routes."""

    name = "discord"
    setting_hint = "DISCORD_TOKEN"

    def enabled(self, settings: Settings) -> bool:
        """True when DISCORD_TOKEN is set."""
        return settings.discord_enabled

    def secrets(self, settings: Settings) -> Sequence[SecretStr | None]:
        """DISCORD_TOKEN."""
        return (settings.discord_token,)

    def check(self, settings: Settings) -> None:
        """Nothing beyond what Settings validates (DISCORD_SHARD_IDS is parsed there)."""

    def open(self, engine: MemoryEngine, settings: Settings, delivery: Delivery) -> DiscordAdapter:
        """The Discord adapter with the settings' token, API URL, server, shards, reactions,
        notices and catch-up window. Raises ConfigurationError for an empty token or shard ids
        without a count."""
        from adapters.discord.client import DiscordOptions
        from adapters.discord.runner import DiscordAdapter

        assert settings.discord_token is not None  # enabled() said so
        options = DiscordOptions(
            guild_id=settings.discord_guild_id,
            shard_count=settings.discord_shard_count,
            shard_ids=settings.discord_shard_ids,
            react_when_learned=settings.react_when_learned,
            notices=settings.memory_notices,
            catch_up_seconds=settings.discord_catch_up_seconds,
        )
        return DiscordAdapter(
            engine,
            token=settings.discord_token.get_secret_value(),
            api_url=settings.discord_api_url,
            options=options,
            delivery=delivery,
        )
