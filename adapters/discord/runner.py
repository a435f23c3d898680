"""Running the Discord bot until cancelled; optionally against a Discord-compatible server.

DISCORD_API_URL is the server's base URL without the API path, e.g. ``http://127.0.0.1:8080``:
REST calls then go to ``http://127.0.0.1:8080/api/v10/...`` and the gateway is
``ws://127.0.0.1:8080/gateway`` (``wss://`` when the URL is ``https://``). A URL that already
ends in ``/api/v10`` is accepted too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord
import discord.gateway
import discord.http
import yarl

from adapters.discord.client import DiscordOptions, MemoryBot, build_client
from memory import ConfigurationError, Delivery, MemoryEngine

log = logging.getLogger(__name__)

API_PATH = "/api/v10"


def endpoints(api_url: str) -> tuple[str, yarl.URL]:
    """The REST base and the gateway URL for a DISCORD_API_URL."""
    url = yarl.URL(api_url.rstrip("/"))
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"DISCORD_API_URL must look like http://host:port, not {api_url!r}."
        )
    path = url.path.rstrip("/")
    for suffix in (API_PATH, "/api"):
        path = path.removesuffix(suffix)
    base = url.with_path(path or "/")
    rest = str(base).rstrip("/") + API_PATH
    gateway = base.with_scheme("wss" if url.scheme == "https" else "ws").with_path(
        path + "/gateway"
    )
    return rest, gateway


def point_at(api_url: str) -> Callable[[], None]:
    """Send discord.py's REST and gateway traffic to api_url; returns a function that undoes it."""
    route, websocket = discord.http.Route, discord.gateway.DiscordWebSocket
    old = route.BASE, websocket.DEFAULT_GATEWAY
    route.BASE, websocket.DEFAULT_GATEWAY = endpoints(api_url)

    def restore() -> None:
        route.BASE, websocket.DEFAULT_GATEWAY = old

    return restore


class DiscordAdapter:
    """Discord on one engine: no HTTP routes (the gateway is a websocket it opens), `run()`
    until cancelled, `drained()` once every message and command it took is answered and
    posted. `token` is the bot token; `api_url` a Discord-compatible server (DISCORD_API_URL,
    see `endpoints`), None for Discord itself; `options` the client's (server, shards,
    reactions, notices, catch-up; see adapters.discord.client.DiscordOptions).
    Raises ConfigurationError for an empty token or shard ids without a shard count."""

    routes: tuple[()] = ()

    def __init__(
        self,
        engine: MemoryEngine,
        *,
        token: str,
        api_url: str | None = None,
        options: DiscordOptions | None = None,
        delivery: Delivery | None = None,
    ) -> None:
        options = options or DiscordOptions()
        if not token:
            raise ConfigurationError("DISCORD_TOKEN is empty: set it to the bot token.")
        if options.shard_ids and not options.shard_count:
            raise ConfigurationError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT (the total) too.")
        self._token, self._api_url = token, api_url
        self.client: MemoryBot = build_client(engine, options, delivery)

    async def run(self) -> None:
        """Connect and serve until cancelled; the client is closed cleanly on the way out.
        Raises ConfigurationError when Discord rejects the token or the Message Content
        intent."""
        await _serve(self.client, self._token, self._api_url)

    async def drained(self) -> None:
        """Return once the answers, notices and /memory replies it started are posted."""
        await self.client.in_flight.drained()


async def _serve(client: MemoryBot, token: str, api_url: str | None) -> None:
    restore = point_at(api_url) if api_url else None
    try:
        async with client:
            await client.start(token, reconnect=True)
    except discord.LoginFailure:
        raise ConfigurationError(
            "Discord rejected DISCORD_TOKEN: copy the bot token from the developer portal "
            "(Bot > Reset Token)."
        ) from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigurationError(
            "Discord refused the Message Content intent: switch on 'Message Content Intent' "
            "under Bot > Privileged Gateway Intents in the developer portal."
        ) from None
    finally:
        if restore is not None:
            restore()
        log.info("discord client stopped")
