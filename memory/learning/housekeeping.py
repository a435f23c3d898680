"""Keeping each person's memory within its kinds' limits, apart from learning anything new.

A collection over its cap (memory.kinds.MemoryKind.cap) is consolidated: the model is asked to
merge near-duplicates and drop what is outdated, and if it does not get under the cap the
oldest items make room. Items past their kind's retention are swept away with their history.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Protocol

from memory.errors import ExtractionFailed
from memory.identity import Audience
from memory.kinds import KindRegistry
from memory.learning.changesets import ItemChange
from memory.learning.extraction import ExistingMemory, MemoryChanges, MemoryExtractor
from memory.learning.writes import WriteReport, consolidation
from memory.schemas import Provenance
from memory.storage.locks import UserLocks
from memory.storage.repository import MemoryRepository, UserMemory


class Write(Protocol):
    """Writes what an extraction decided for a person (memory.learning.learner.Learner._write): the
    person's key, their memory as read, the changes, where the changes come from, and the id of
    the change set the round's history entries name."""

    def __call__(
        self,
        user_key: str,
        memory: UserMemory,
        changes: MemoryChanges,
        where: Provenance,
        *,
        change_set: str | None = None,
    ) -> Awaitable[WriteReport]: ...


class Housekeeping:
    """Caps and retention for one bot's kinds. `write` is the learner's writer, so what
    consolidation removes is recorded (history, Undo) like any other change."""

    def __init__(
        self,
        repository: MemoryRepository,
        extractor: MemoryExtractor,
        locks: UserLocks,
        kinds: KindRegistry,
        write: Write,
    ) -> None:
        self._repository = repository
        self._extractor = extractor
        self._locks = locks
        self._kinds = kinds
        self._write = write

    async def keep_under_caps(
        self, user_key: str, name: str, memory: UserMemory, audience: Audience, change_set: str
    ) -> list[ItemChange]:
        """Merge or drop items of each collection over its cap (call under the user lock);
        returns what changed, for Undo, recorded as part of the round's change set `change_set`.
        `name` is how the person is called to the model; a consolidation the model fails is
        skipped and the oldest items go instead."""
        made: list[ItemChange] = []
        for kind in self._kinds.collections:
            items, cap = memory.of(kind.name), kind.cap
            if cap is None or len(items) <= cap:
                continue
            existing = ExistingMemory(items={k: (v.kind, v.data) for k, v in items.items()})
            try:
                changes = await self._extractor.consolidate(name, existing, kind.name, cap)
                changes.inserts = []
            except ExtractionFailed:
                changes = MemoryChanges()
            where = consolidation(audience)
            made += (
                await self._write(user_key, memory, changes, where, change_set=change_set)
            ).changes
            left = {k: v for k, v in items.items() if k not in changes.deletes}
            if len(left) > cap:
                # The model did not get under the cap: the oldest items make room.
                oldest = sorted(left, key=lambda k: left[k].updated_at)[: len(left) - cap]
                evicted = MemoryChanges(deletes=set(oldest))
                made += (
                    await self._write(user_key, memory, evicted, where, change_set=change_set)
                ).changes
        return made

    async def sweep(self, user_key: str, now: datetime | None = None) -> int:
        """Delete the person's items past their kind's retention (as of `now`, UTC, by default
        the current time), with their history; returns how many went. Takes the user lock."""
        now = now or datetime.now(UTC)
        removed = 0
        async with self._locks.hold(user_key):
            memory = await self._repository.load(user_key)
            for kind in self._kinds.collections:
                gone = {
                    k
                    for k, v in memory.of(kind.name).items()
                    if kind.is_gone(v.data, v.updated_at, now)
                }
                for key in gone:
                    await self._repository.delete(user_key, kind.name, key)
                    await self._repository.forget_history_of(user_key, key)
                removed += len(gone)
        return removed
