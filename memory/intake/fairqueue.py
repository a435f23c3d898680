"""Backpressure for replies: at most N in flight, one per person, the waiting served
round-robin per person.

A burst from one person (or a few) waits behind itself, not in front of everyone else, and the
model sees a bounded number of calls instead of every acknowledged event at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

log = logging.getLogger(__name__)

WAIT_BUCKETS = (0.01, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

BusyNotice = Callable[[], Awaitable[None]]


class FairQueue:
    """`limit` slots; `busy_after` seconds of waiting call a job's `on_busy` once.

    Its metrics live in `registry` (its own unless one is given): bot_replies_in_flight and
    bot_reply_queue_length (gauges), bot_reply_queue_wait_seconds (histogram, seconds) and
    bot_busy_notices_total (counter)."""

    def __init__(
        self,
        limit: int = 8,
        busy_after: float = 15.0,
        registry: CollectorRegistry | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError("a reply queue needs at least one slot")
        self.limit = limit
        self.busy_after = busy_after
        self.running = 0
        self.registry = registry or CollectorRegistry()
        self.wait_seconds = Histogram(
            "bot_reply_queue_wait_seconds",
            "Time a message waited for a reply slot.",
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )
        # Exposed as bot_busy_notices_total (prometheus_client adds the suffix).
        self.busy_notices = Counter(
            "bot_busy_notices",
            "People told the bot is busy and will answer shortly.",
            registry=self.registry,
        )
        Gauge(
            "bot_replies_in_flight",
            "Replies being made now (bounded by REPLY_CONCURRENCY).",
            registry=self.registry,
        ).set_function(lambda: self.running)
        Gauge(
            "bot_reply_queue_length",
            "Messages waiting for a reply slot.",
            registry=self.registry,
        ).set_function(lambda: self.waiting)
        # person -> their waiting jobs, in arrival order; the dict's order is the round robin.
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()
        self._active: set[str] = set()  # people with a job running

    @property
    def waiting(self) -> int:
        """Jobs waiting for a slot, over all people (the bot_reply_queue_length gauge)."""
        return sum(len(jobs) for jobs in self._waiting.values())

    @asynccontextmanager
    async def slot(self, person: str, on_busy: BusyNotice | None = None) -> AsyncIterator[None]:
        """Hold one slot for the body; waits (fairly) while all are taken or while this person
        already has one (their messages are answered in order anyway). Cancellable."""
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        self._waiting.setdefault(person, deque()).append(turn)
        self._dispatch()
        timer = None
        if not turn.done() and on_busy is not None:
            timer = loop.call_later(self.busy_after, self._tell_busy, on_busy)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._done(person)  # the slot was handed over just as we were cancelled
            else:
                self._forget(person, turn)
            raise
        finally:
            if timer is not None:
                timer.cancel()
        self.wait_seconds.observe(time.monotonic() - started)
        try:
            yield
        finally:
            self._done(person)

    def _dispatch(self) -> None:
        """Hand free slots to waiting people in round-robin order, one slot per person."""
        while self.running < self.limit:
            person = next((p for p in self._waiting if p not in self._active), None)
            if person is None:
                return
            jobs = self._waiting.pop(person)
            turn = jobs.popleft()
            if jobs:
                self._waiting[person] = jobs  # to the back of the round
            if turn.done():
                continue  # cancelled while waiting; its task has not run its cleanup yet
            self._active.add(person)
            self.running += 1
            turn.set_result(None)

    def _done(self, person: str) -> None:
        self.running -= 1
        self._active.discard(person)
        self._dispatch()

    def _tell_busy(self, on_busy: BusyNotice) -> None:
        self.busy_notices.inc()
        task = asyncio.get_running_loop().create_task(_quietly(on_busy))
        _notices.add(task)
        task.add_done_callback(_notices.discard)

    def _forget(self, person: str, turn: asyncio.Future[None]) -> None:
        jobs = self._waiting.get(person)
        if jobs is None:
            return
        try:
            jobs.remove(turn)
        except ValueError:
            return
        if not jobs:
            del self._waiting[person]


_notices: set[asyncio.Task[None]] = set()


async def _quietly(notice: BusyNotice) -> None:
    try:
        await notice()
    except Exception:
        log.warning("could not send a busy notice", exc_info=True)
