"""/healthz and /metrics: healthy with the database and adapters up, 503 when one is down."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.storage import Storage
from bot.web import add_ops_routes
from memory.delivery import Delivery
from memory.engine import MemoryEngine
from tests.conftest import unique
from tests.memory.helpers import dm, person, say


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_health_and_metrics(engine: MemoryEngine, storage: Storage) -> None:
    adapters = {"slack": True, "discord": True}
    app = web.Application()
    probes = {k: (lambda k=k: adapters[k]) for k in adapters}
    add_ops_routes(app, engine, storage, probes, Delivery(storage.inbox))
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "hello"))

    async for base in serve(app):
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/healthz") as ok:
                assert ok.status == 200
                assert await ok.json() == {
                    "status": "ok",
                    "database": True,
                    "slack": True,
                    "discord": True,
                }
            adapters["discord"] = False  # the gateway dropped
            async with session.get(f"{base}/healthz") as down:
                assert down.status == 503
                assert (await down.json())["discord"] is False
            async with session.get(f"{base}/metrics") as metrics:
                text = await metrics.text()
            assert 'bot_messages_total{platform="test"} 1' in text
            assert "bot_reply_seconds_count 1" in text
            assert "bot_extraction_backlog 1" in text  # the hello waits to be learned
            assert "bot_reply_queue_wait_seconds_count 0" in text  # nothing queued here
            assert "bot_replies_in_flight 0" in text


async def test_health_reports_an_unreachable_database(
    engine: MemoryEngine, storage: Storage
) -> None:
    app = web.Application()
    add_ops_routes(app, engine, storage, {})
    async for base in serve(app):
        await storage.store.conn.close()  # type: ignore[attr-defined]
        async with aiohttp.ClientSession() as session, session.get(f"{base}/healthz") as down:
            assert down.status == 503
            assert await down.json() == {
                "status": "unhealthy",
                "database": False,
                "reason": "database: ValueError",  # aiosqlite: "no active connection"
            }
