"""FakeSlack: the Web API, upload and response URLs and Socket Mode on one local aiohttp server."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

import aiohttp
from aiohttp import web

from .._server import serve
from .socket_mode import SocketMode
from .web_api import WebApi


@dataclass(eq=False)
class FakeSlack(WebApi, SocketMode):
    """Slack's Web API, upload URLs, response URLs and a Socket Mode websocket on 127.0.0.1."""

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/link", self._socket)
        self._runner, self._port = await serve(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for ws in list(self._sockets):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
