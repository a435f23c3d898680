"""The operations endpoints on PORT: /healthz (database, adapters) and /metrics (Prometheus)."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from bot.storage import Storage
from memory import Delivery, MemoryEngine

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
    the database is the cause, "reason": "database: <timeout or error type>".

    /metrics answers in the Prometheus text format (version 0.0.4) from prometheus_client:
    the engine's metrics (memory.stats.EngineStats) and, when `delivery` is given, its reply
    queue's (memory.intake.fairqueue.FairQueue)."""

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

    # One scrape renders the engine's registry and the reply queue's together. The page is
    # announced as text format 0.0.4, which every Prometheus reads (the names need no escaping).
    exposed = CollectorRegistry()
    exposed.register(engine.stats.registry)
    if delivery is not None:
        exposed.register(delivery.queue.registry)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(exposed), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4}
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
