"""PostgreSQL drops every connection mid-load: the bot recovers without a restart, in-flight
messages get an answer or a polite error, and nothing is left half-written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import open_storage
from memory.engine import MemoryEngine
from memory.learning.pending import PendingMessage
from memory.storage.namespaces import user_namespace
from tests.conftest import MANUAL, engine_on, unique
from tests.faults.database import kill_connections
from tests.memory.helpers import dm, person, say
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel


@pytest.fixture
async def dropping_engine(own_database: str, tmp_path: Path) -> AsyncIterator[MemoryEngine]:
    async with open_storage(own_database, tmp_path, pool_size=8) as storage:
        engine = engine_on(
            storage, ScriptedChatModel(script=memory_script, latency=0.01), config=MANUAL
        )
        yield engine
        await engine.scheduler.close()


async def test_the_bot_recovers_when_every_connection_is_dropped(
    dropping_engine: MemoryEngine, own_database: str
) -> None:
    engine = dropping_engine
    users = [person(unique("u")) for _ in range(10)]

    async def chat(user_index: int, n: int) -> bool:
        user = users[user_index]
        reply = await engine.reply(say(user, dm(user), f"Remember that I have item {n}"))
        assert reply.text, "never silence"
        return not reply.failed

    first = asyncio.gather(*(chat(i % 10, i) for i in range(40)))
    await asyncio.sleep(0.05)  # the load is in flight
    assert kill_connections(own_database) > 0
    results = await first
    # Some in-flight turns may have failed politely; everything after the drop works.
    after = await asyncio.gather(*(chat(i % 10, 100 + i) for i in range(20)))
    assert all(after)
    assert sum(results) + sum(after) >= 20

    for user in users:  # nothing half-written: every pending record reads back whole
        found = await engine.store.asearch(user_namespace(user.key, "pending"), limit=500)
        for item in found:
            PendingMessage.model_validate(item.value)
        await engine.learner.learn_pending(user.key)
        memory = await engine.repository.load(user.key)
        assert len(memory.facts) == len(found)


async def test_processes_starting_together_on_a_fresh_database(
    own_database: str, tmp_path: Path
) -> None:
    """Migrations run under a lock: concurrent first starts must not collide."""

    async def start_and_use(n: int) -> int:
        async with open_storage(own_database, tmp_path / str(n)) as storage:
            await storage.store.aput(("probe",), str(n), {"n": n})
            return len(await storage.store.asearch(("probe",), limit=10))

    counts = await asyncio.gather(*(start_and_use(n) for n in range(4)))
    assert max(counts) >= 1 and all(c >= 1 for c in counts)
