"""The chat platforms the bot runs on: the interface each meets, and the one list of them.

A platform is a `Platform` (its settings, its secrets, how it opens on the engine) registered
in `PLATFORMS`, the one list `bot` reads: the CLI's secret list, the "no platform" refusal,
`/healthz` and shutdown all come from it. What a platform opens is an `Adapter`: the HTTP
routes it needs (mounted on bot's one web app beside /healthz and /metrics), the connection it
runs, and a drained signal (every reply it was given is posted).

The terminal chat (`bot chat`, adapters/console) is not registered here, on purpose: a
registered platform is a server that settings switch on (a token), that runs beside the
others under `bot run` on one web app bound to PORT, takes messages through the delivery
inbox and stops on SIGTERM. The console is none of these: it is a foreground session for one
person, chosen by command (or by `bot` when no platform is switched on, see bot.cli), opened
with arguments that are not settings (`--user`, `--resume`, checked before it starts), with no
web app (two terminals can chat at once on one machine) and no inbox (a line is answered
while its writer waits, so there is nothing to redeliver). Registering it would make the
settings pick it and `bot run` start it; neither is wanted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from pydantic import SecretStr

from bot.platform_discord import DiscordPlatform
from bot.platform_slack import SlackPlatform
from bot.settings import Settings

if TYPE_CHECKING:  # aiohttp and the engine load only when platforms run (not for `bot chat`)
    from aiohttp import web

    from memory import Delivery, MemoryEngine


class Adapter(Protocol):
    """A platform opened on the engine (adapters satisfy this by shape, never import it)."""

    @property
    def routes(self) -> Sequence[web.RouteDef]:
        """HTTP routes to serve on PORT (empty when it needs none); read once, before run."""
        ...

    async def run(self) -> None:
        """Serve the platform until cancelled. Raises ConfigurationError for a token or
        setting the platform refuses; any other exception means it stopped by itself."""
        ...

    async def drained(self) -> None:
        """Return once everything it started for people (answers, posts) is finished."""
        ...


class Platform(Protocol):
    """A chat platform as `bot` runs it: see README "Adding a platform"."""

    name: str  # the /healthz key and the log name, e.g. "slack"
    # How to switch it on, for the refusal when no platform is: "DISCORD_TOKEN".
    setting_hint: str

    def enabled(self, settings: Settings) -> bool:
        """Whether the settings switch this platform on (its token is set)."""
        ...

    def secrets(self, settings: Settings) -> Sequence[SecretStr | None]:
        """Its secret settings, kept out of every log line."""
        ...

    def check(self, settings: Settings) -> None:
        """Raises ConfigurationError, naming the variable, for inconsistent settings."""
        ...

    def open(self, engine: MemoryEngine, settings: Settings, delivery: Delivery) -> Adapter:
        """The adapter on `engine`; raises ConfigurationError for bad settings."""
        ...


# The one place a platform is registered.
PLATFORMS: list[Platform] = [SlackPlatform(), DiscordPlatform()]


def enabled_platforms(
    settings: Settings, platforms: Sequence[Platform] | None = None
) -> list[Platform]:
    """The registered platforms the settings switch on."""
    return [p for p in (PLATFORMS if platforms is None else platforms) if p.enabled(settings)]


def setting_hints() -> str:
    """How to switch on each registered platform: "SLACK_BOT_TOKEN (…) and/or DISCORD_TOKEN"."""
    return " and/or ".join(p.setting_hint for p in PLATFORMS)


def platform_secrets(settings: Settings) -> list[str]:
    """Every platform's secret values that are set (for the log filter)."""
    return [
        secret.get_secret_value()
        for platform in PLATFORMS
        for secret in platform.secrets(settings)
        if secret is not None
    ]
