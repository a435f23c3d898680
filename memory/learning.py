"""Turning a user's pending messages (or a correction) into stored memory, one user at a time.

Writes go through the user lock, keep provenance, refuse facts about other people, never
duplicate an item that is already stored, keep each collection under its cap, and leave a
history entry for every change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from memory.errors import ExtractionFailed
from memory.extraction import ExistingMemory, MemoryChanges, MemoryExtractor, transcript
from memory.history import Change, HistoryEntry
from memory.identity import Audience
from memory.ids import new_item_id
from memory.locks import UserLocks
from memory.namespaces import Section
from memory.pending import PendingMessage
from memory.policy import MemoryPolicy
from memory.relevance import rank
from memory.repository import MemoryRepository, UserMemory
from memory.schemas import Kind, Provenance, StoredItem
from memory.semantic import SemanticIndex
from memory.timeline import earlier_values

log = logging.getLogger(__name__)

CONSOLIDATION = "consolidation"
SECTION_BY_KIND: dict[Kind, Section] = {"fact": "facts", "todo": "todos", "profile": "profile"}


@dataclass(frozen=True)
class Learned:
    """A message the bot learned something from (adapters may react to it)."""

    user_key: str
    conversation: str
    message_id: str
    platform: str


LearnedListener = Callable[[Learned], Awaitable[None]]


# The model sees at most this many stored items when learning: the ones closest to what was
# said, so the extraction prompt (and its cost) stays bounded however much is remembered.
MAX_ITEMS_SHOWN = 60
ITEMS_SHOWN_CHARS = 12_000


def existing_for(memory: UserMemory, audience: Audience, about: str) -> ExistingMemory:
    """What the model may patch when learning in this audience, from what was said (`about`).

    A channel conversation may only touch channel-learned items, so nothing private can be
    rewritten into something shared. A DM may touch everything; what it touches becomes private.
    """
    visible = memory.visible_to(audience)
    profile = visible.profiles.get(audience)
    candidates = {**visible.facts, **visible.todos}
    shown = rank(about, candidates, limit=MAX_ITEMS_SHOWN, max_chars=ITEMS_SHOWN_CHARS)
    items = {k: (v.kind, v.data) for k, v in shown}
    return ExistingMemory(profile=profile.data if profile else None, items=items)


def _same_text(kind: Kind, data: dict[str, Any]) -> str:
    text = data.get("content") if kind == "fact" else data.get("task")
    return " ".join(str(text or "").lower().split()).rstrip(".!")


def _about_someone_else(kind: Kind, data: dict[str, Any]) -> bool:
    subject = str(data.get("subject") or "self").strip().lower()
    return kind == "fact" and subject not in ("self", "me", "myself", "")


@dataclass
class WriteReport:
    history: list[HistoryEntry] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.history)


class Learner:
    def __init__(
        self,
        repository: MemoryRepository,
        extractor: MemoryExtractor,
        locks: UserLocks,
        policy: MemoryPolicy | None = None,
        semantic: SemanticIndex | None = None,
    ) -> None:
        self.semantic = semantic
        self.repository = repository
        self.extractor = extractor
        self.locks = locks
        self.policy = policy or MemoryPolicy()
        self.listeners: list[LearnedListener] = []

    async def learn_pending(self, user_key: str) -> int:
        """Learn from everything pending for the user; returns how many messages were used."""
        async with self.locks.hold(user_key):
            pending = await self.repository.list_pending(user_key)
            if not pending:
                return 0
            memory = await self.repository.load(user_key)
            if memory.paused:
                await self.repository.delete_pending(user_key, list(pending))
                return 0
            learned: list[PendingMessage] = []
            for audience in ("channel", "dm"):
                group = {k: p for k, p in pending.items() if p.audience == audience}
                if not group:
                    continue
                messages = list(group.values())
                try:
                    changes = await self.extractor.learn(
                        messages[-1].author,
                        existing_for(memory, audience, transcript(messages)),
                        messages,
                    )
                except ExtractionFailed as exc:
                    # The stored memory is left as it was; the same text would fail again.
                    log.warning("no valid update: %s", exc, extra={"user": user_key})
                    changes = MemoryChanges()
                last = messages[-1]
                report = await self._write(user_key, memory, changes, _provenance(last))
                # Consumed per group, so a failure in the next group never re-learns this one.
                await self.repository.delete_pending(user_key, list(group))
                if report.changed:
                    learned.extend(messages)
                    memory = await self.repository.load(user_key)
                    await self._keep_under_caps(user_key, messages[-1].author, memory, audience)
                    memory = await self.repository.load(user_key)
        await self._announce(user_key, learned)
        return len(pending)

    async def correct(
        self, user_key: str, name: str, text: str, where: Provenance
    ) -> MemoryChanges:
        async with self.locks.hold(user_key):
            memory = await self.repository.load(user_key)
            changes = await self.extractor.correct(name, existing_for(memory, "dm", text), text)
            await self._write(user_key, memory, changes, where)
            return changes

    async def _write(
        self, user_key: str, memory: UserMemory, changes: MemoryChanges, where: Provenance
    ) -> WriteReport:
        report = WriteReport()
        cause = where.message_id or "message"

        def note(change: Change, key: str, item: StoredItem) -> None:
            report.history.append(
                HistoryEntry(
                    change=change,
                    item_id=key,
                    kind=item.kind,
                    text=item.text(),  # type: ignore[arg-type]
                    cause=cause,
                )
            )

        if changes.profile is not None:
            item = StoredItem(kind="profile", data=changes.profile, provenance=where)
            await self.repository.put(user_key, "profile", where.audience, item)
            note("changed", "profile", item)
        known = {
            (item.kind, _same_text(item.kind, item.data))
            for item in (*memory.facts.values(), *memory.todos.values())
        }
        taken = set(memory.facts) | set(memory.todos)
        for kind, data in changes.inserts:
            if _about_someone_else(kind, data):
                log.info("dropped a fact about someone else", extra={"user": user_key})
                continue
            if (kind, _same_text(kind, data)) in known:
                continue  # said again: one memory, not five
            known.add((kind, _same_text(kind, data)))
            key = new_item_id(taken)
            taken.add(key)
            item = StoredItem(kind=kind, data=data, provenance=where)
            await self._embed(item)
            await self.repository.put(user_key, SECTION_BY_KIND[kind], key, item)
            note("added", key, item)
        for key, data in changes.updates.items():
            current = memory.item(key)
            if current is None or _about_someone_else(current.kind, data):
                continue
            # An update keeps the item's id; learning it again here moves it to this audience.
            # Consolidation is housekeeping, not learning: items keep where they came from.
            source = current.provenance if cause == CONSOLIDATION else where
            updated = StoredItem(kind=current.kind, data=data, provenance=source)
            updated.previous = earlier_values(current, updated, cause)
            await self._embed(updated)
            await self.repository.put(user_key, SECTION_BY_KIND[current.kind], key, updated)
            note("changed", key, updated)
        for key in changes.deletes:
            current = memory.item(key)
            if current is not None:
                await self.repository.delete(user_key, SECTION_BY_KIND[current.kind], key)
                note("removed", key, current)
        await self.repository.add_history(user_key, report.history, self.policy.max_history)
        return report

    async def _embed(self, item: StoredItem) -> None:
        if self.semantic is not None:
            item.embedding = (await self.semantic.embed([item.text()]))[0]

    async def _keep_under_caps(
        self, user_key: str, name: str, memory: UserMemory, audience: Audience
    ) -> None:
        for what, items, cap in (
            ("facts", memory.facts, self.policy.max_facts),
            ("todos", memory.todos, self.policy.max_todos),
        ):
            if len(items) <= cap:
                continue
            existing = ExistingMemory(items={k: (v.kind, v.data) for k, v in items.items()})
            try:
                changes = await self.extractor.consolidate(name, existing, what, cap)
                changes.inserts = []
            except ExtractionFailed:
                changes = MemoryChanges()
            where = _consolidation(audience)
            await self._write(user_key, memory, changes, where)
            left = {k: v for k, v in items.items() if k not in changes.deletes}
            if len(left) > cap:
                # The model did not get under the cap: the oldest items make room.
                oldest = sorted(left, key=lambda k: left[k].updated_at)[: len(left) - cap]
                evicted = MemoryChanges(deletes=set(oldest))
                await self._write(user_key, memory, evicted, where)

    async def sweep(self, user_key: str, now: datetime | None = None) -> int:
        """Delete todos past retention; returns how many went."""
        now = now or datetime.now(UTC)
        async with self.locks.hold(user_key):
            memory = await self.repository.load(user_key)
            gone = {k for k, v in memory.todos.items() if self.policy.todo_is_gone(v, now)}
            for key in gone:
                await self.repository.delete(user_key, "todos", key)
                await self.repository.forget_history_of(user_key, key)
        return len(gone)

    async def _announce(self, user_key: str, learned: list[PendingMessage]) -> None:
        for message in learned:
            event = Learned(user_key, message.conversation, message.message_id, message.platform)
            for listener in self.listeners:
                try:
                    await listener(event)
                except Exception:
                    log.exception("a learned-listener failed", extra={"user": user_key})


def _provenance(message: PendingMessage) -> Provenance:
    return Provenance(
        platform=message.platform,
        conversation=message.conversation,
        message_id=message.message_id,
        permalink=message.permalink,
        audience=message.audience,
        said_at=message.sent_at,
    )


def _consolidation(audience: Audience) -> Provenance:
    return Provenance(
        platform="memory",
        conversation="consolidation",
        message_id=CONSOLIDATION,
        audience=audience,
    )
