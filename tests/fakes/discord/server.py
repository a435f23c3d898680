"""FakeDiscord: the REST API and the gateway on one local aiohttp server, and pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import yarl
from aiohttp import web

from .._server import serve
from .gateway import Gateway
from .ids import API_PREFIX
from .rest import RestApi

if TYPE_CHECKING:
    import pytest


class FakeDiscord(RestApi, Gateway):
    """Discord's REST API under ``/api/v10`` and its gateway at ``/gateway``, on 127.0.0.1."""

    def __init__(self, *, heartbeat_interval_ms: int = 41_250) -> None:
        super().__init__(heartbeat_interval_ms=heartbeat_interval_ms)
        self._routes = self._route_table()

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner, self.port = await serve(app, shutdown_timeout=1.0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    def patch_discord(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point discord.py's REST base and gateway at this fake for the current test."""
        import discord.gateway
        import discord.http

        monkeypatch.setattr(discord.http.Route, "BASE", self.api_base)
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(self.gateway_url)
        )

    @contextmanager
    def patched(self) -> Iterator[None]:
        """Like patch_discord, without pytest: restores the old values on exit."""
        import discord.gateway
        import discord.http

        route, ws = discord.http.Route, discord.gateway.DiscordWebSocket
        old = route.BASE, ws.DEFAULT_GATEWAY
        route.BASE, ws.DEFAULT_GATEWAY = self.api_base, yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            route.BASE, ws.DEFAULT_GATEWAY = old
