"""Background supervision: the learning the scheduler runs, the periodic sweep and adoption of
pending learning, the tasks replies leave behind, and an orderly stop.

Replies (memory.turns) never wait on any of this; it runs beside them for as long as the
engine does, and `aclose` learns what is still pending before it stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from memory.accounts.people import People
from memory.errors import ConfigurationError
from memory.kinds import KindRegistry
from memory.learning.learner import Learner
from memory.learning.scheduler import ExtractionScheduler
from memory.stats import EngineStats
from memory.storage.repository import MemoryRepository
from memory.storage.sealing import KeyGone, KeyUnavailable

log = logging.getLogger(__name__)


class Supervisor:
    """Owns the extraction scheduler (learning debounced per person: after `quiet_seconds` of
    quiet or every `every_messages` messages) and the engine's background tasks: a sweep of
    what is past retention every `sweep_every_seconds`, adoption of pending learning no process
    has scheduled every `adopt_every_seconds`, and whatever replies hand to `in_background`.
    """

    def __init__(
        self,
        *,
        repository: MemoryRepository,
        learner: Learner,
        people: People,
        checkpointer: BaseCheckpointSaver[Any],
        stats: EngineStats,
        kinds: KindRegistry,
        quiet_seconds: float,
        every_messages: int,
        sweep_every_seconds: float,
        adopt_every_seconds: float,
    ) -> None:
        self._repository = repository
        self._learner = learner
        self._people = people
        self._checkpointer = checkpointer
        self._stats = stats
        self._kinds = kinds
        self._sweep_every = sweep_every_seconds
        self._adopt_every = adopt_every_seconds
        self.scheduler = ExtractionScheduler(
            self._learn, quiet_seconds=quiet_seconds, every_messages=every_messages
        )
        stats.backlog.set_function(lambda: self.scheduler.backlog)
        self._background: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []

    async def _learn(self, user_key: str) -> int:
        try:
            used = await self._learner.learn_pending(user_key)
        except Exception as exc:
            self._stats.extraction_failures.inc()
            self._stats.errors.labels(kind=f"extraction:{type(exc).__name__}").inc()
            raise
        self._stats.extractions.inc()
        return used

    async def start(self) -> None:
        """Check that storage is readable with the configured key; pick up extractions a previous
        run recorded but never finished; start sweeping. Raises ConfigurationError when stored
        memory or conversations are encrypted with a key the settings do not hold."""
        await self._repository.check_readable()
        await self._check_checkpoints_readable()
        await self._people.upgrade()
        await self.adopt_pending()
        loop = asyncio.get_running_loop()
        self._loops = [
            loop.create_task(_every(self._sweep_every, self.sweep)),
            loop.create_task(_every(self._adopt_every, self.adopt_pending)),
        ]

    async def _check_checkpoints_readable(self) -> None:
        try:
            async for _ in self._checkpointer.alist(None, limit=1):
                break
        except KeyGone:
            pass  # a conversation forgotten while it was being written: unreadable on purpose
        except Exception as exc:
            raise ConfigurationError(
                "Stored conversations are encrypted and cannot be read with the current "
                "settings: set MEMORY_ENCRYPTION_KEY to the key they were written with "
                f"(older keys in MEMORY_ENCRYPTION_OLD_KEYS). ({type(exc).__name__})"
            ) from None

    async def adopt_pending(self) -> int:
        """Schedule every user with pending learning that this process has not scheduled;
        returns how many were newly scheduled."""
        users = await self._repository.users_with_pending()
        return sum(self.scheduler.adopt(user_key) for user_key in users)

    async def sweep(self) -> int:
        """Delete what is past retention, for every user; returns how many items went."""
        removed = 0
        kept_for_a_while = {k.name for k in self._kinds.collections if k.retention_days is not None}
        # A person whose memory no configured key opens is skipped with one line per sweep.
        unopened: set[str] = set()
        for user_key in await self._repository.users_with_any(kept_for_a_while):
            try:
                removed += await self._learner.housekeeping.sweep(user_key)
            except KeyUnavailable as exc:
                _skip_unopenable(user_key, exc, unopened)
        for user_key in await self._repository.users_with_changes():
            if user_key in unopened:
                continue
            # Reading them drops the change sets past the undo window, with their before-states.
            try:
                await self._repository.change_sets(user_key)
            except KeyUnavailable as exc:
                _skip_unopenable(user_key, exc, unopened)
        return removed

    def in_background(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run `coroutine` as a task the engine waits for when it closes (its errors are the
        coroutine's to handle; they are collected, not raised, at close)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def flush(self) -> None:
        """Learn what is pending for every user, now, and wait for it."""
        await self.scheduler.flush(await self._repository.users_with_pending())

    async def aclose(self) -> None:
        """Learn what is pending, then stop background work. Storage is closed by its owner."""
        for task in self._loops:
            task.cancel()
        try:
            await self.flush()
        finally:
            await self.scheduler.close()
            if self._background:
                await asyncio.gather(*self._background, return_exceptions=True)


async def _every(seconds: float, work: Callable[[], Awaitable[int]]) -> None:
    while True:
        try:
            await work()
        except Exception:
            log.exception("background %s failed", getattr(work, "__name__", "work"))
        await asyncio.sleep(seconds)


def _skip_unopenable(user_key: str, exc: KeyUnavailable, skipped: set[str]) -> None:
    skipped.add(user_key)
    log.warning(
        "sweep skipped a person whose memory cannot be opened: %s", exc, extra={"user": user_key}
    )
