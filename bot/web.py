"""The operations endpoints on PORT: /healthz (database, adapters) and /metrics (Prometheus)."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from bot.storage import Storage
from memory.engine import MemoryEngine

# name -> "is this adapter connected right now?"
Probe = Callable[[], bool]


def add_ops_routes(
    app: web.Application, engine: MemoryEngine, storage: Storage, probes: dict[str, Probe]
) -> None:
    async def healthz(_request: web.Request) -> web.Response:
        database = await storage.ping()
        adapters = {name: probe() for name, probe in probes.items()}
        healthy = database and all(adapters.values())
        body = {"status": "ok" if healthy else "unhealthy", "database": database, **adapters}
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(_request: web.Request) -> web.Response:
        text = engine.stats.prometheus(backlog=engine.scheduler.backlog)
        return web.Response(text=text, content_type="text/plain", charset="utf-8")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
