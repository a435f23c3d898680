"""/healthz while the database refuses connections: a prompt 503 with the reason, not a hang
on the pool's 30 s wait; healthy again once the database is back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.storage import open_storage
from bot.web import add_ops_routes
from tests.conftest import engine_on
from tests.faults.database import unavailable
from tests.test_ops import serve

# Far under the pool's 30 s connection wait, far over the ping's bound: fails only on a hang.
PROBE = aiohttp.ClientTimeout(total=5)


async def test_health_answers_503_with_a_reason_while_the_database_is_down(
    own_database: str, tmp_path: Path
) -> None:
    async with open_storage(own_database, tmp_path) as storage:
        engine = engine_on(storage)
        app = web.Application()
        add_ops_routes(app, engine, storage, {"slack": lambda: True})
        async for base in serve(app):
            async with aiohttp.ClientSession(timeout=PROBE) as session:
                async with session.get(f"{base}/healthz") as up:
                    assert up.status == 200
                with unavailable(own_database):
                    for _ in range(3):  # every probe during the outage, not only the first
                        async with session.get(f"{base}/healthz") as down:
                            body = await down.json()
                        assert down.status == 503
                        assert body["database"] is False and body["slack"] is True
                        assert str(body["reason"]).startswith("database: ")
                for _ in range(200):
                    async with session.get(f"{base}/healthz") as back:
                        if back.status == 200:
                            break
                    await asyncio.sleep(0.05)
                assert back.status == 200
        await engine.scheduler.close()
