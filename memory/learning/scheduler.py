"""When to learn: debounced per user, at most one extraction at a time per user, retried on failure.

Pending messages are durable (in the store), so this only decides *when* to run; a restart
calls `recover()` and nothing told to the bot is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from memory.agent.model_errors import model_failure
from memory.storage.sealing import unopenable

log = logging.getLogger(__name__)

Run = Callable[[str], Awaitable[int]]


class ExtractionScheduler:
    """Decides when to learn for each person: after `quiet_seconds` without a new message or at
    every `every_messages`-th, one extraction at a time per person (a request during a run runs once
    more after it), retried `max_retries` times after `retry_seconds` x the attempt number.
    `run(user_key)` does the learning and returns how many messages it used."""

    def __init__(
        self,
        run: Run,
        *,
        quiet_seconds: float = 20.0,
        every_messages: int = 6,
        retry_seconds: float = 30.0,
        max_retries: int = 3,
    ) -> None:
        self._run = run
        self.quiet_seconds = quiet_seconds
        self.every_messages = every_messages
        self.retry_seconds = retry_seconds
        self.max_retries = max_retries
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._counts: dict[str, int] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._failures: dict[str, int] = {}
        self._closed = False

    def notify(self, user_key: str) -> None:
        """A message was recorded for the user: learn after a quiet spell or every K messages."""
        if self._closed:
            return
        self._counts[user_key] = self._counts.get(user_key, 0) + 1
        if self._counts[user_key] >= self.every_messages:
            self._start(user_key)
        else:
            self._arm(user_key, self.quiet_seconds)

    def adopt(self, user_key: str) -> bool:
        """Schedule a user found with pending work (maybe left by another process), unless
        this process already has them scheduled. Returns True if newly scheduled."""
        if self._closed or user_key in self._timers or user_key in self._running:
            return False
        self._arm(user_key, self.quiet_seconds)
        return True

    def drop(self, user_key: str) -> None:
        """Forget any scheduled run (the user paused or erased everything)."""
        timer = self._timers.pop(user_key, None)
        if timer:
            timer.cancel()
        self._counts.pop(user_key, None)
        self._again.discard(user_key)

    @property
    def backlog(self) -> int:
        """People with learning scheduled or running (the bot_extraction_backlog gauge)."""
        return len(self._timers) + len(self._running)

    async def run_now(self, user_key: str) -> None:
        """Start the person's learning now (or once more after the run in progress) and wait until
        none is running for them. A failure is logged and retried as usual, not raised."""
        self._start(user_key)
        while user_key in self._running:
            await asyncio.shield(self._running[user_key])

    async def flush(self, user_keys: list[str]) -> None:
        """Run every given user's pending extraction now and wait for all of them."""
        for key in set(user_keys) | set(self._timers):
            self._start(key)
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def close(self) -> None:
        """Stop scheduling: no new runs and no timers; wait for the runs in progress to end."""
        self._closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    def _arm(self, user_key: str, delay: float) -> None:
        timer = self._timers.pop(user_key, None)
        if timer:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._timers[user_key] = loop.call_later(delay, self._start, user_key)

    def _start(self, user_key: str) -> None:
        timer = self._timers.pop(user_key, None)
        if timer:
            timer.cancel()
        self._counts.pop(user_key, None)
        if user_key in self._running:
            self._again.add(user_key)  # one at a time; run once more when this one ends
            return
        task = asyncio.get_running_loop().create_task(self._guarded(user_key))
        self._running[user_key] = task

    async def _guarded(self, user_key: str) -> None:
        try:
            await self._run(user_key)
            self._failures.pop(user_key, None)
        except Exception as exc:
            failures = self._failures.get(user_key, 0) + 1
            self._failures[user_key] = failures
            # A provider down, or memory no configured key opens: one line, not a traceback.
            outside = model_failure(exc) or unopenable(exc)
            log.error(
                "learning failed (attempt %d)%s",
                failures,
                f": {outside}" if outside else "",
                exc_info=outside is None,
                extra={"user": user_key},
            )
            if failures < self.max_retries and not self._closed:
                self._arm(user_key, self.retry_seconds * failures)
            else:
                self._failures.pop(user_key, None)
        finally:
            self._running.pop(user_key, None)
            if user_key in self._again and not self._closed:
                self._again.discard(user_key)
                self._start(user_key)
