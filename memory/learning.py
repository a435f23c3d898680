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
from typing import TYPE_CHECKING, Any

from memory.attribution import source_of, sources_of
from memory.changesets import ChangeListener, ChangeSet, ItemChange, MemoryChanged, Place
from memory.erasure import ErasureEvent
from memory.errors import ExtractionFailed
from memory.extraction import ExistingMemory, MemoryChanges, MemoryExtractor, transcript
from memory.history import Change, HistoryEntry
from memory.identity import Audience
from memory.ids import field_id, new_item_id
from memory.locks import UserLocks
from memory.namespaces import Section
from memory.pending import PendingMessage
from memory.policy import MemoryPolicy
from memory.relevance import rank
from memory.repository import MemoryRepository, UserMemory
from memory.schemas import (
    Kind,
    Provenance,
    SourceRef,
    StoredItem,
    field_change_text,
    merge_sources,
    profile_text,
)
from memory.semantic import SemanticIndex
from memory.timeline import earlier_values

if TYPE_CHECKING:
    from memory.conversations import ConversationStates

log = logging.getLogger(__name__)

CONSOLIDATION = "consolidation"
SECTION_BY_KIND: dict[Kind, Section] = {"fact": "facts", "todo": "todos", "profile": "profile"}
PLACE: dict[Kind, Place] = {"fact": "facts", "todo": "todos", "profile": "profile"}


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
    # What an Undo can take back, with before-states; removals the person asked for are not here.
    changes: list[ItemChange] = field(default_factory=list)
    forgotten: int = 0

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
        self.change_listeners: list[ChangeListener] = []
        # Set by the engine once the graph is compiled: where forgotten turns are removed.
        self.conversations: ConversationStates | None = None
        # Set by the engine: run after forgotten text was removed (see MemoryEngine `compact`).
        self.after_erasure: Callable[[], Awaitable[None]] | None = None

    async def redact(
        self, user_key: str, sources: list[SourceRef], texts: tuple[str, ...] = ()
    ) -> None:
        """Take forgotten memory out of the person's stored conversations: the turns it was
        learned from (`sources`), and any later turn of theirs or reply repeating `texts`."""
        await self.repository.scrub_pending(user_key, {ref.message_id for ref in sources}, texts)
        if self.conversations is None:
            return
        by_thread: dict[str, set[str]] = {ref.conversation: set() for ref in sources}
        for ref in sources:
            by_thread[ref.conversation].add(ref.message_id)
        if texts:
            for thread in await self.repository.conversations(user_key):
                by_thread.setdefault(thread, set())
        for thread, message_ids in by_thread.items():
            await self.conversations.remove_turns(
                thread, message_ids=message_ids, owner=user_key, containing=texts
            )
        if self.after_erasure is not None:
            await self.after_erasure()

    async def learn_pending(self, user_key: str) -> int:
        """Learn from everything pending for the user; returns how many messages were used."""
        async with self.locks.hold(user_key):
            pending = await self.repository.list_pending(user_key)
            if not pending:
                return 0
            memory = await self.repository.load(user_key)
            erasures = await self.repository.erasure_log(user_key)
            voided = [
                key
                for key, message in pending.items()
                if any(_voids(e, message) for e in erasures.since(message.erasure_token))
            ]
            if memory.paused or voided:
                # Recorded by a reply still in flight when everything was forgotten, or when
                # the message itself was deleted: never learned.
                gone = list(pending) if memory.paused else voided
                await self.repository.delete_pending(user_key, gone)
                pending = {k: v for k, v in pending.items() if k not in gone}
                if not pending:
                    return 0
            learned: list[PendingMessage] = []
            notices: list[MemoryChanged] = []
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
                where = _provenance(last)
                sources = [
                    SourceRef(conversation=m.conversation, message_id=m.message_id)
                    for m in messages
                ]
                report = await self._write(user_key, memory, changes, where, sources, messages)
                # Consumed per group, so a failure in the next group never re-learns this one.
                await self.repository.delete_pending(user_key, list(group))
                if report.changes or report.forgotten:
                    notices.append(await self._change_set(user_key, last, report))
                if report.changed:
                    learned.extend(messages)
                    memory = await self.repository.load(user_key)
                    await self._keep_under_caps(user_key, messages[-1].author, memory, audience)
                    memory = await self.repository.load(user_key)
        await self._announce(user_key, learned)
        await self._notify(notices)
        return len(pending)

    async def _change_set(
        self, user_key: str, last: PendingMessage, report: WriteReport
    ) -> MemoryChanged:
        """Keep what this round changed, for Undo (call under the user lock)."""
        change_set = None
        if report.changes:
            change_set = ChangeSet(
                platform=last.platform,
                conversation=last.conversation,
                message_id=last.message_id,
                changes=report.changes,
            )
            await self.repository.add_change_set(user_key, change_set)
        return MemoryChanged(
            user_key=user_key,
            platform=last.platform,
            conversation=last.conversation,
            message_id=last.message_id,
            change_set=change_set,
            forgotten=report.forgotten,
        )

    async def _notify(self, notices: list[MemoryChanged]) -> None:
        for notice in notices:
            for listener in self.change_listeners:
                try:
                    await listener(notice)
                except Exception:
                    log.exception("a change listener failed", extra={"user": notice.user_key})

    async def correct(
        self, user_key: str, name: str, text: str, where: Provenance
    ) -> MemoryChanges:
        async with self.locks.hold(user_key):
            memory = await self.repository.load(user_key)
            changes = await self.extractor.correct(name, existing_for(memory, "dm", text), text)
            await self._write(user_key, memory, changes, where)
            return changes

    async def _write(
        self,
        user_key: str,
        memory: UserMemory,
        changes: MemoryChanges,
        where: Provenance,
        sources: list[SourceRef] | None = None,
        messages: list[PendingMessage] | None = None,
    ) -> WriteReport:
        """Write what an extraction decided; `sources` are the messages it was learned from,
        `messages` the same messages with their words, so each change names its own."""
        report = WriteReport()
        housekeeping = where.message_id == CONSOLIDATION
        sources = sources or []

        def narrowed(text: str) -> list[SourceRef]:
            # Only the messages of the batch this change may have come from (see attribution).
            if not messages:
                return sources
            return [_source_ref(m) for m in sources_of(text, messages)]

        def origin(text: str) -> Provenance:
            # The message of the batch this change came from (by its words), not the last one.
            return _provenance(source_of(text, messages)) if messages else where

        def note(change: Change, key: str, kind: Kind, text: str, came: str = "") -> None:
            at = origin(came) if came else where
            report.history.append(
                HistoryEntry(
                    change=change,
                    item_id=key,
                    kind=kind,
                    text=text,
                    cause=at.message_id or "message",
                    conversation=at.conversation,
                    permalink=at.permalink,
                )
            )

        forgotten: list[SourceRef] = []
        texts: list[str] = []
        if changes.profile is not None:
            erased = await self._write_profile(
                user_key, memory, changes.profile, where, narrowed, note, report
            )
            report.forgotten += len(erased)
            for name, (field_refs, field_texts) in erased.items():
                await self.repository.forget_history_of(user_key, field_id(name))
                asked = narrowed(" ".join(field_texts))
                forgotten = merge_sources(forgotten, field_refs, asked)
                texts.extend(field_texts)
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
            text = _same_text(kind, data)
            item = StoredItem(kind=kind, data=data, provenance=origin(text), sources=narrowed(text))
            await self._embed(item)
            await self.repository.put(user_key, SECTION_BY_KIND[kind], key, item)
            note("added", key, kind, item.text(), came=text)
            report.changes.append(
                ItemChange(
                    item_id=key, place=PLACE[kind], change="added", summary=item.text(), after=data
                )
            )
        for key, data in changes.updates.items():
            current = memory.item(key)
            if current is None or _about_someone_else(current.kind, data):
                continue
            # An update keeps the item's id; learning it again here moves it to this audience.
            # Consolidation is housekeeping, not learning: items keep where they came from.
            source = current.provenance if housekeeping else origin(_same_text(current.kind, data))
            said = narrowed(_same_text(current.kind, data))
            merged = current.sources if housekeeping else merge_sources(current.sources, said)
            updated = StoredItem(kind=current.kind, data=data, provenance=source, sources=merged)
            updated.previous = earlier_values(current, updated, where.message_id or "")
            await self._embed(updated)
            await self.repository.put(user_key, SECTION_BY_KIND[current.kind], key, updated)
            if not housekeeping:
                report.changes.append(
                    ItemChange(
                        item_id=key,
                        place=PLACE[current.kind],
                        change="changed",
                        summary=updated.text(),
                        before=current.model_dump(mode="json"),
                        after=data,
                    )
                )
            note("changed", key, current.kind, updated.text(), came=_same_text(current.kind, data))
        for key in changes.deletes:
            current = memory.item(key)
            if current is None:
                continue
            await self.repository.delete(user_key, SECTION_BY_KIND[current.kind], key)
            if housekeeping:
                note("removed", key, current.kind, current.text())
                continue
            # Removed because the person asked ("forget that ..."): no copy of its text is kept,
            # neither in history nor in the turns it was learned from or asked to be forgotten in.
            await self.repository.forget_history_of(user_key, key)
            note("removed", key, current.kind, "(forgotten)", current.text())
            report.forgotten += 1
            # The request to forget it goes too (it names what was forgotten).
            asked = narrowed(" ".join(current.remembered_texts()))
            forgotten = merge_sources(forgotten, current.sources, _last_source(current), asked)
            texts.extend(current.remembered_texts())
        if forgotten:
            await self.repository.record_erasure(user_key, ErasureEvent(sources=forgotten))
            await self.redact(user_key, forgotten, tuple(texts))
        await self.repository.add_history(user_key, report.history, self.policy.max_history)
        return report

    async def _write_profile(
        self,
        user_key: str,
        memory: UserMemory,
        data: dict[str, Any],
        where: Provenance,
        sources_for: Callable[[str], list[SourceRef]],
        note: Callable[[Change, str, Kind, str, str], None],
        report: WriteReport,
    ) -> dict[str, tuple[list[SourceRef], tuple[str, ...]]]:
        """Store the patched profile with per-field sources and one history entry per field.

        Returns the fields that were removed, with their sources and former values, so no
        copy of them is kept (a field is only removed when the person asks, or corrects it).
        """
        before = memory.profiles.get(where.audience)
        old = before.data if before else {}
        field_sources = dict(before.field_sources) if before else {}
        erased: dict[str, tuple[list[SourceRef], tuple[str, ...]]] = {}
        for name in sorted(set(old) | set(data)):
            was, now = old.get(name), data.get(name)
            if was == now or (not was and not now):
                continue
            if not now and before is not None:
                erased[name] = (field_sources.pop(name, []), before.remembered_texts(name))
                note("removed", field_id(name), "profile", "(forgotten)", "")
                continue
            said = sources_for(profile_text({name: now}))
            field_sources[name] = merge_sources(field_sources.get(name, []), said)
            change: Change = "added" if not was else "changed"
            came = profile_text({name: now})
            note(change, field_id(name), "profile", field_change_text(name, was, now), came)
            report.changes.append(
                ItemChange(
                    item_id=field_id(name),
                    place="profile",
                    change=change,
                    summary=came,
                    before={"value": was} if was else None,
                    after={"value": now},
                    audience=where.audience,
                )
            )
        item = StoredItem(kind="profile", data=data, provenance=where, field_sources=field_sources)
        await self.repository.put(user_key, "profile", where.audience, item)
        return erased

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


def _voids(event: ErasureEvent, message: PendingMessage) -> bool:
    """Does an erasure made after `message` was recorded mean it must not be learned?"""
    return event.everything or any(
        ref.conversation == message.conversation and ref.message_id == message.message_id
        for ref in event.sources
    )


def _source_ref(message: PendingMessage) -> SourceRef:
    return SourceRef(conversation=message.conversation, message_id=message.message_id)


def _last_source(item: StoredItem) -> list[SourceRef]:
    where = item.provenance
    if not where.message_id or where.message_id == CONSOLIDATION:
        return []
    return [SourceRef(conversation=where.conversation, message_id=where.message_id)]


def _consolidation(audience: Audience) -> Provenance:
    return Provenance(
        platform="memory",
        conversation="consolidation",
        message_id=CONSOLIDATION,
        audience=audience,
    )
