"""The inbox contract, on PostgreSQL, SQLite and in memory: states, leases, recovery, pruning."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.storage import Storage
from memory.intake.delivery import Delivery, DeliveryConfig
from memory.intake.inbox import Inbox, InboxEntry, MemoryInbox
from tests.conftest import unique


@pytest.fixture(params=["sqlite", "postgres", "memory"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def inbox(backend: str, request: pytest.FixtureRequest) -> Inbox:
    if backend == "memory":
        return MemoryInbox()
    storage: Storage = request.getfixturevalue("storage")
    return storage.inbox


async def test_a_finished_event_is_done_and_an_unfinished_one_is_not(inbox: Inbox) -> None:
    key = unique("slack:Ev")
    assert await inbox.record(key, {"event": {"text": "hello"}}) == "received"
    assert await inbox.record(key, {"event": {"text": "hello"}}) == "received"  # redelivered
    assert await inbox.claim(key, "one", lease_seconds=60)
    assert await inbox.record(key, {}) == "claimed"
    assert not await inbox.claim(key, "two", lease_seconds=60)  # owned, lease running
    await inbox.finish(key)
    assert await inbox.record(key, {}) == "done"
    assert not await inbox.claim(key, "two", lease_seconds=60)


async def test_a_claim_whose_lease_ran_out_is_found_and_taken(inbox: Inbox) -> None:
    prefix = unique("test:")
    dead, alive = prefix + "dead", prefix + "alive"
    for key in (dead, alive):
        await inbox.record(key, {"n": key})
    assert await inbox.claim(dead, "died", lease_seconds=-1)  # its owner stopped renewing
    assert await inbox.claim(alive, "lives", lease_seconds=60)
    assert await inbox.renew("lives", lease_seconds=60) == 1

    found = await inbox.unfinished(prefix, older_than=time.time(), limit=10)

    assert [(e.key, e.payload) for e in found] == [(dead, {"n": dead})]
    assert await inbox.claim(dead, "new", lease_seconds=60)
    assert await inbox.unfinished(prefix, older_than=time.time(), limit=10) == []


async def test_received_but_unclaimed_is_recovered_only_once_old(inbox: Inbox) -> None:
    prefix = unique("test:")
    await inbox.record(prefix + "a", {})
    assert await inbox.unfinished(prefix, older_than=time.time() - 60, limit=10) == []
    assert len(await inbox.unfinished(prefix, older_than=time.time() + 1, limit=10)) == 1


async def test_release_gives_it_back_and_done_entries_are_pruned(inbox: Inbox) -> None:
    prefix = unique("test:")
    key = prefix + "a"
    await inbox.record(key, {})
    assert await inbox.claim(key, "one", lease_seconds=60)
    await inbox.release(key, "one")
    assert await inbox.claim(key, "two", lease_seconds=60)
    await inbox.finish(key)
    assert await inbox.prune(before=time.time() + 1) >= 1
    assert await inbox.record(key, {}) == "received"  # forgotten after retention


async def test_recovery_hands_on_what_nobody_owns_and_gives_up_on_a_poison_event() -> None:
    delivery = Delivery(MemoryInbox(), DeliveryConfig(lease=60, max_attempts=2))
    handed: list[str] = []

    async def redeliver(entry: InboxEntry) -> None:
        handed.append(entry.key)

    delivery.watch("test:", redeliver)
    for key in ("test:dead", "test:poison", "test:live", "other:dead"):
        await delivery.inbox.record(key, {})
    await delivery.inbox.claim("test:dead", "died", lease_seconds=-1)
    for _ in range(2):  # taken twice, by processes that died on it
        await delivery.inbox.claim("test:poison", "died", lease_seconds=-1)
    await delivery.inbox.claim("test:live", "alive", lease_seconds=60)

    assert await delivery.recover() == 1
    assert handed == ["test:dead"]
    assert await delivery.inbox.record("test:poison", {}) == "done"


async def test_an_event_being_answered_is_not_taken_again_after_its_lease_lapsed() -> None:
    """A database outage longer than the lease: the process still answering must not answer
    again when Slack resends or when its own recovery runs."""
    delivery = Delivery(MemoryInbox(), DeliveryConfig(lease=60))
    handed: list[str] = []

    async def redeliver(entry: InboxEntry) -> None:
        handed.append(entry.key)

    delivery.watch("test:", redeliver)
    await delivery.record("test:slow", {})
    started, release = asyncio.Event(), asyncio.Event()

    async def slow() -> bool:
        started.set()
        await release.wait()
        return True

    first = asyncio.create_task(delivery.handle("test:slow", "alice", slow, None))
    await started.wait()
    await delivery.inbox.renew(delivery.owner, lease_seconds=-1)  # the lease lapsed

    assert not await delivery.handle("test:slow", "alice", slow, None)  # Slack's resend
    assert await delivery.recover() == 0 and handed == []
    release.set()
    assert await first
    assert await delivery.record("test:slow", {}) == "done"
