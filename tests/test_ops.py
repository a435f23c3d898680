"""/healthz and /metrics: healthy with the database and adapters up, 503 when one is down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from langgraph.store.base import GetOp
from langgraph.store.sqlite.aio import AsyncSqliteStore

from bot.storage import Storage
from bot.web import add_ops_routes
from memory.commands.verbs import parse_command
from memory.engine import MemoryEngine
from memory.intake.delivery import Delivery
from tests.conftest import unique
from tests.memory.helpers import dm, person, say
from tests.scrape import Samples, parse, value


@pytest.fixture
def backend() -> str:
    return "sqlite"


# The names /metrics has always exposed, with their Prometheus types.
EXPOSED = {
    "bot_messages": "counter",
    "bot_errors": "counter",
    "bot_reply_seconds": "histogram",
    "bot_extraction_backlog": "gauge",
    "bot_extractions": "counter",
    "bot_extraction_failures": "counter",
    "bot_replies_in_flight": "gauge",
    "bot_reply_queue_length": "gauge",
    "bot_reply_queue_wait_seconds": "histogram",
    "bot_busy_notices": "counter",
}


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
                assert metrics.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                text = await metrics.text()
    types, samples = parse(text)
    # Every name /metrics has always had, with its type (counters keep their _total names).
    assert {name: types[name] for name in EXPOSED} == EXPOSED
    for name, kind in EXPOSED.items():
        exposed = f"{name}_total" if kind == "counter" else name
        assert f"# TYPE {exposed} {kind}\n" in text, exposed
    assert value(samples, "bot_messages_total", platform="test") == 1
    assert value(samples, "bot_reply_seconds_count") == 1
    assert value(samples, "bot_extraction_backlog") == 1  # the hello waits to be learned
    assert value(samples, "bot_reply_queue_wait_seconds_count") == 0  # nothing queued here
    assert value(samples, "bot_replies_in_flight") == 0
    assert value(samples, "bot_extractions_total") == 0


async def _scrape(engine: MemoryEngine, storage: Storage) -> str:
    app = web.Application()
    add_ops_routes(app, engine, storage, {})
    async for base in serve(app):
        async with aiohttp.ClientSession() as session, session.get(f"{base}/metrics") as page:
            return await page.text()
    raise AssertionError("the server did not start")


async def test_metrics_show_memory_sizes_and_store_latency(
    engine: MemoryEngine, storage: Storage
) -> None:
    """Per-person memory size is a histogram across people, with no person in a label; store
    round trips are timed by operation."""
    alice, bob = person(unique("alice")), person(unique("bob"))
    await engine.reply(say(alice, dm(alice), "Remember that I keep bees"))
    await engine.reply(say(alice, dm(alice), "Remember that I like tea"))
    await engine.reply(say(bob, dm(bob), "hello"))
    await engine.learn_now(alice.key)
    remembered = await engine.repository.load(alice.key)  # the read after a change records it
    items = len(remembered.profiles) + len(remembered.facts) + len(remembered.todos)
    assert len(remembered.facts) == 2
    text = await _scrape(engine, storage)
    types, samples = parse(text)

    assert types["bot_memory_items"] == types["bot_memory_bytes"] == "histogram"
    assert value(samples, "bot_memory_items_count") == 2  # two people
    assert value(samples, "bot_memory_items_sum") == items  # bob has none
    assert value(samples, "bot_memory_items_bucket", le="0.0") == 1  # bob
    assert value(samples, "bot_memory_items_bucket", le="1.0") == 1
    assert value(samples, "bot_memory_items_bucket", le="5.0") == 2  # alice's 2 facts, a profile
    assert value(samples, "bot_memory_bytes_count") == 2
    assert value(samples, "bot_memory_bytes_sum") > len("I keep bees") + len("I like tea")
    assert alice.key not in text and bob.key not in text

    assert types["bot_store_seconds"] == "histogram"
    # Every round trip is counted under its operation alone: no person's id is a label.
    assert {"get", "search", "put", "batch"} <= _store_operations(samples)
    assert all(
        {label for label, _ in labels} <= {"operation", "le"}
        for name, labels in samples
        if name.startswith("bot_store_seconds")
    )

    await engine.run_command(alice, parse_command("forget all confirm"))
    _, after = parse(await _scrape(engine, storage))
    assert value(after, "bot_memory_items_count") == 1  # forgotten people leave it
    assert "delete" in _store_operations(after)


def _store_operations(samples: Samples) -> set[str]:
    """The operations /metrics has timed at least one store round trip of."""
    return {
        dict(labels)["operation"]
        for (name, labels), count in samples.items()
        if name == "bot_store_seconds_count" and count >= 1
    }


async def test_a_store_call_stopped_half_way_leaves_the_store_usable(
    engine: MemoryEngine, storage: Storage
) -> None:
    """A caller cancelled while the store is in a round trip (a shutdown stopping the
    sweeper) stops waiting; the trip still ends, so the next call works. SQLite's store takes
    its lock, then awaits BEGIN: a cancel there used to leave that transaction open, and every
    later call failed with "cannot start a transaction within a transaction"."""
    sqlite = storage.store
    assert isinstance(sqlite, AsyncSqliteStore)
    # A long query ahead of it on the same connection, so the call waits on its BEGIN.
    busy = asyncio.create_task(sqlite.conn.execute(LONG_QUERY))
    namespace = ("users", unique("alice"), "facts")
    stopped = asyncio.create_task(engine.store.abatch([GetOp(namespace, "a")]))
    for _ in range(1000):  # until the call holds the store's lock: its next step is BEGIN
        if sqlite.lock.locked():
            break
        await asyncio.sleep(0)
    assert sqlite.lock.locked() and not busy.done()
    stopped.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopped
    await busy
    await engine.store.aput(namespace, "a", {"content": "still works"})
    found = await engine.store.aget(namespace, "a")
    assert found is not None and found.value == {"content": "still works"}


# Counts to three million inside SQLite: busy for a while, whatever the machine.
LONG_QUERY = (
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000000) "
    "SELECT count(*) FROM n"
)


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
