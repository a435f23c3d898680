"""Delivery: from an acknowledged event to exactly one answer, through crashes and outages.

One per process, shared by the platform adapters. An adapter records an event in the inbox
before acknowledging it (`record`), then answers it through `handle`: claim it (a lease this
process renews while it works), wait for a fair reply slot, answer, mark it done. A background
loop finds entries nobody owns (their process died, or gave them back on shutdown) and hands
them to the adapter that registered their prefix, which answers late with a short note, or
only apologizes once they are older than `answer_within` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from memory.intake.fairqueue import BusyNotice, FairQueue
from memory.intake.inbox import RETENTION_SECONDS, Inbox, InboxEntry, InboxState, MemoryInbox

log = logging.getLogger(__name__)

BUSY = "I'm answering a lot of people right now; I'll get to your message shortly."
LATE_NOTE = "(Sorry for the wait: I was briefly unavailable.)"
TOO_LATE = (
    "Sorry, I missed your message while I was unavailable and it is too old to answer now. "
    "Please ask again if it still matters."
)

Redeliver = Callable[[InboxEntry], Awaitable[None]]
# A job returns True when the event is settled (answered, or not for the bot), False to give
# it back for a later attempt (nothing could be sent).
Job = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class DeliveryConfig:
    """Timings in seconds. `lease` must cover the wait for a connection between renewals."""

    lease: float = 30.0
    recover_every: float = 10.0
    answer_within: float = 3600.0
    drain: float = 20.0
    concurrency: int = 8
    busy_after: float = 15.0
    finish_retry_for: float = 300.0
    max_attempts: int = 5


class Delivery:
    """Answers each platform event once, across restarts and processes: an adapter `record`s the
    event in the inbox before it acknowledges it, then `handle`s it (claim with a lease, a fair
    reply slot, the answer, finish). Unfinished events nobody owns (their process died, or gave
    them back at shutdown) are handed to the `Redeliver` function an adapter `watch`es their key
    prefix with. Timings are in DeliveryConfig (seconds); without an inbox, one in memory."""

    def __init__(self, inbox: Inbox | None = None, config: DeliveryConfig | None = None) -> None:
        self.inbox: Inbox = inbox or MemoryInbox()
        self.config = config or DeliveryConfig()
        self.owner = uuid.uuid4().hex
        self.queue = FairQueue(self.config.concurrency, self.config.busy_after)
        self.redelivered = 0
        self._watchers: dict[str, Redeliver] = {}
        self._jobs: set[asyncio.Task[Any]] = set()
        self._held: set[str] = set()  # keys this process has claimed and not yet settled
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = False

    # ---- the edge ------------------------------------------------------------------------

    async def record(
        self, key: str, payload: Mapping[str, Any], author: str | None = None
    ) -> InboxState:
        """Record before acknowledging; raises the database's error (do not ack then).
        `author`: the account key of who wrote it, when known (see Inbox.record)."""
        return await self.inbox.record(key, dict(payload), author)

    # ---- answering -----------------------------------------------------------------------

    async def handle(self, key: str, person: str, job: Job, on_busy: BusyNotice | None) -> bool:
        """Claim `key`, wait for a slot, run `job`; False if another process owns the event
        or it is done already. Never raises for a database error: an answer twice is better
        than none."""
        # Held here already: its lease may have run out while the database was away, and a
        # claim would then succeed a second time in this very process.
        if self._stopping or key in self._held or not await self._claim(key):
            return False
        self._held.add(key)
        task = asyncio.current_task()
        if task is not None:
            self._jobs.add(task)
        settled = False
        try:
            async with self.queue.slot(person, on_busy):
                settled = await job()
        finally:
            if task is not None:
                self._jobs.discard(task)
            try:
                if settled:
                    await self._finish(key)
                else:
                    await self._release(key)
            finally:
                self._held.discard(key)
        return True

    async def _claim(self, key: str) -> bool:
        try:
            return await self.inbox.claim(key, self.owner, self.config.lease)
        except Exception as exc:
            log.warning("inbox claim failed (%s): answering anyway", type(exc).__name__)
            return True

    async def _finish(self, key: str) -> None:
        deadline = time.monotonic() + self.config.finish_retry_for
        delay = 0.5
        while True:
            try:
                await self.inbox.finish(key)
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    log.error("could not mark %s answered: %s", key, type(exc).__name__)
                    return
                # The answer is out; keep the lease alive meanwhile so nobody answers again.
                log.warning("marking %s answered failed (%s); retrying", key, type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _release(self, key: str) -> None:
        try:
            await self.inbox.release(key, self.owner)
        except Exception as exc:
            # The lease runs out on its own; recovery picks the event up after that.
            log.warning("inbox release failed: %s", type(exc).__name__)

    # ---- late answers ---------------------------------------------------------------------

    def too_late(self, age: float) -> bool:
        """An event `age` seconds old is past `answer_within`: apologize instead of answering."""
        return age > self.config.answer_within

    def watch(self, prefix: str, redeliver: Redeliver) -> None:
        """Hand unfinished entries whose key starts with `prefix` to `redeliver`."""
        self._watchers[prefix] = redeliver

    async def recover(self) -> int:
        """Redeliver every unfinished entry nobody owns; how many were handed on."""
        await self._renew()  # our own leases first, so a lapse in an outage is not taken
        handed = 0
        older_than = time.time() - self.config.lease
        for prefix, redeliver in list(self._watchers.items()):
            for entry in await self.inbox.unfinished(prefix, older_than, limit=500):
                if self._stopping:
                    return handed
                if entry.key in self._held:
                    continue  # ours, still being answered (its lease lapsed in an outage)
                if entry.attempts >= self.config.max_attempts:
                    # Taken that often and never finished: it may be what kills the process.
                    log.error(
                        "gave up on an event after %d attempts",
                        entry.attempts,
                        extra={"event": entry.key},
                    )
                    await self.inbox.finish(entry.key)
                    continue
                log.info("answering an event left unfinished", extra={"event": entry.key})
                try:
                    await redeliver(entry)
                except Exception:
                    log.exception("redelivering %s failed", entry.key)
                handed += 1
        self.redelivered += handed
        return handed

    async def start(self) -> None:
        """Renew this process's leases and recover unfinished events, now and periodically."""
        loop = asyncio.get_running_loop()
        self._loops = [
            loop.create_task(self._every(self.config.lease / 3, self._renew)),
            loop.create_task(self._every(self.config.recover_every, self.recover)),
            loop.create_task(self._every(3600.0, self._prune)),
        ]

    async def _renew(self) -> int:
        return await self.inbox.renew(self.owner, self.config.lease)

    async def _prune(self) -> int:
        return await self.inbox.prune(time.time() - RETENTION_SECONDS)

    @staticmethod
    async def _every(seconds: float, work: Callable[[], Awaitable[int]]) -> None:
        while True:
            try:
                await work()
            except Exception as exc:
                # The database is down; the next round tries again.
                log.warning("delivery %s failed: %s", work.__name__, type(exc).__name__)
            await asyncio.sleep(seconds)

    # ---- shutdown ------------------------------------------------------------------------

    async def stop(self) -> int:
        """Take no more events; let the answers in flight or waiting for a slot finish within
        `drain` seconds, then give the rest back unfinished (the next process answers them).
        Returns how many were given back."""
        self._stopping = True
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        jobs = list(self._jobs)
        if not jobs:
            return 0
        _, pending = await asyncio.wait(jobs, timeout=self.config.drain)
        for task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*pending, return_exceptions=True)
        return len(pending)
