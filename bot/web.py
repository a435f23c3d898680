"""The operations endpoints on PORT: /healthz (database, adapters) and /metrics (Prometheus)."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from bot.storage import Storage
from memory.delivery import Delivery
from memory.engine import MemoryEngine

# name -> "is this adapter connected right now?"
Probe = Callable[[], bool]


def add_ops_routes(
    app: web.Application,
    engine: MemoryEngine,
    storage: Storage,
    probes: dict[str, Probe],
    delivery: Delivery | None = None,
) -> None:
    """/healthz answers within about a second (the database ping waits 0.5 s at most): 200 with
    {"status": "ok", "database": true, <adapter>: true}, else 503 with "unhealthy" and, when
    the database is the cause, "reason": "database: <timeout or error type>"."""

    async def healthz(_request: web.Request) -> web.Response:
        problem = await storage.ping()
        adapters = {name: probe() for name, probe in probes.items()}
        healthy = problem is None and all(adapters.values())
        body: dict[str, object] = {
            "status": "ok" if healthy else "unhealthy",
            "database": problem is None,
            **adapters,
        }
        if problem is not None:
            body["reason"] = f"database: {problem}"
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(_request: web.Request) -> web.Response:
        text = engine.stats.prometheus(backlog=engine.scheduler.backlog)
        if delivery is not None:
            text += "\n".join(delivery.queue.prometheus()) + "\n"
        return web.Response(text=text, content_type="text/plain", charset="utf-8")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
