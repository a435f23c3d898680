"""The reply queue: bounded, one job per person, round-robin between people, cancellable."""

from __future__ import annotations

import asyncio

import pytest

from memory.intake.fairqueue import BusyNotice, FairQueue


async def test_a_burst_from_one_person_does_not_hold_up_another() -> None:
    queue = FairQueue(limit=2)
    order: list[str] = []
    peak = 0
    gate = asyncio.Event()

    async def job(person: str, n: int) -> None:
        nonlocal peak
        async with queue.slot(person):
            peak = max(peak, queue.running)
            await gate.wait()
            order.append(f"{person}{n}")

    tasks = [asyncio.create_task(job("a", n)) for n in range(5)]
    tasks += [asyncio.create_task(job("b", 0)), asyncio.create_task(job("c", 0))]
    await asyncio.sleep(0)
    assert queue.running == 2 and queue.waiting == 5  # a0 and b0 run; a1.. wait behind a0
    gate.set()
    await asyncio.gather(*tasks)

    assert peak <= 2
    assert order.index("b0") < order.index("a2") and order.index("c0") < order.index("a2")
    assert sorted(order) == sorted([*(f"a{n}" for n in range(5)), "b0", "c0"])
    assert queue.running == 0 and queue.waiting == 0
    assert queue.registry.get_sample_value("bot_reply_queue_wait_seconds_count") == 7


async def test_a_cancelled_waiter_leaves_no_trace_and_busy_is_told_once() -> None:
    queue = FairQueue(limit=1, busy_after=0.01)
    told: list[str] = []
    hold = asyncio.Event()

    async def busy() -> None:
        told.append("b")

    async def holder() -> None:
        async with queue.slot("a"):
            await hold.wait()

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(_wait(queue, "b", busy))
    for _ in range(100):
        if told:
            break
        await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (
        told == ["b"]
        and queue.registry.get_sample_value("bot_busy_notices_total") == 1
        and queue.waiting == 0
    )
    hold.set()
    await first
    assert queue.running == 0
    async with queue.slot("c"):
        assert queue.running == 1


async def _wait(queue: FairQueue, person: str, busy: BusyNotice) -> None:
    async with queue.slot(person, busy):
        pass
