"""Turning a user's pending messages (or a correction) into stored memory, one user at a time.

Writes go through the user lock, keep provenance, refuse facts about other people, never
duplicate an item that is already stored, keep each collection under its cap (through
memory.learning.housekeeping), and leave a history entry for every change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from memory.agent.semantic import SemanticIndex
from memory.agent.timeline import earlier_values
from memory.commands.history import Change, HistoryEntry
from memory.erasure.log import ErasureEvent
from memory.erasure.redaction import Redactor, voids
from memory.erasure.traces import (
    earlier_candidates,
    earlier_field_values,
    forget_traces,
    named_by,
    no_longer_remembered,
    spelled_out,
    traces_of,
)
from memory.errors import ExtractionFailed
from memory.ids import field_id, new_item_id
from memory.learning.attribution import source_of, sources_of
from memory.learning.changesets import (
    ChangeListener,
    ChangeSet,
    ItemChange,
    MemoryChanged,
    fold,
    new_change_set_id,
)
from memory.learning.extraction import MemoryChanges, MemoryExtractor, transcript
from memory.learning.housekeeping import Housekeeping
from memory.learning.pending import PendingMessage
from memory.learning.rules import about_someone_else, asks_to_forget, existing_for, same_text
from memory.learning.writes import (
    CONSOLIDATION,
    WriteReport,
    last_source,
    provenance,
    source_ref,
    write_profile,
)
from memory.policy import MemoryPolicy
from memory.schemas import (
    Kind,
    Provenance,
    SourceRef,
    StoredItem,
    merge_sources,
)
from memory.storage.locks import UserLocks
from memory.storage.repository import MemoryRepository, UserMemory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Learned:
    """A message the bot learned something from (adapters may react to it)."""

    user_key: str
    conversation: str
    message_id: str
    platform: str


LearnedListener = Callable[[Learned], Awaitable[None]]


class Learner:
    """Turns a person's pending messages, or their correction, into stored memory, under their user
    lock. `listeners` hear of each message something was learned from (adapters react to it);
    `change_listeners` of each round that changed memory (the notices with Undo). Caps and retention
    are its `housekeeping`; erasing forgotten text from conversations is its `redactor`."""

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
        self.kinds = self.policy.kinds
        self.listeners: list[LearnedListener] = []
        self.change_listeners: list[ChangeListener] = []
        # Takes forgotten memory out of the stored conversations (wired by the engine).
        self.redactor = Redactor(repository)
        # Caps and retention: its consolidation writes go through this learner's `_write`.
        self.housekeeping = Housekeeping(repository, extractor, locks, self.kinds, self._write)

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
                if any(voids(e, message) for e in erasures.since(message.erasure_token))
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
                where = provenance(last)
                sources = [
                    SourceRef(conversation=m.conversation, message_id=m.message_id)
                    for m in messages
                ]
                # A removal is an erasure only when the person asked for one (see
                # asks_to_forget); otherwise it is the model's own, and Undo can take it back.
                erase = asks_to_forget(m.text for m in messages)
                # The id of this round's change set, on every history entry the round writes.
                round_id = new_change_set_id()
                report = await self._write(
                    user_key,
                    memory,
                    changes,
                    where,
                    sources,
                    messages,
                    erase_removals=erase,
                    change_set=round_id,
                    asking=[m.text for m in messages if asks_to_forget([m.text])],
                )
                # Consumed per group, so a failure in the next group never re-learns this one.
                await self.repository.delete_pending(user_key, list(group))
                housekept: list[ItemChange] = []
                if report.changed:
                    learned.extend(messages)
                    memory = await self.repository.load(user_key)
                    housekept = await self.housekeeping.keep_under_caps(
                        user_key, messages[-1].author, memory, audience, round_id
                    )
                    memory = await self.repository.load(user_key)
                # What this round changed, cap and consolidation removals included: one notice,
                # one Undo.
                undoable = fold(report.changes + housekept)
                if undoable or report.forgotten:
                    notices.append(
                        await self._change_set(user_key, last, undoable, report.forgotten, round_id)
                    )
        await self._announce(user_key, learned)
        await self._notify(notices)
        return len(pending)

    async def _change_set(
        self,
        user_key: str,
        last: PendingMessage,
        changes: list[ItemChange],
        forgotten: int,
        change_id: str,
    ) -> MemoryChanged:
        """Keep what this round changed, for Undo, as `change_id` (call under the user lock)."""
        change_set = None
        if changes:
            change_set = ChangeSet(
                id=change_id,
                platform=last.platform,
                conversation=last.conversation,
                message_id=last.message_id,
                changes=changes,
            )
            await self.repository.add_change_set(user_key, change_set)
        if forgotten and not changes:
            await self.repository.mark_forgotten(user_key)  # final: nothing older to undo
        return MemoryChanged(
            user_key=user_key,
            platform=last.platform,
            conversation=last.conversation,
            message_id=last.message_id,
            change_set=change_set,
            forgotten=forgotten,
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
    ) -> tuple[MemoryChanges, int]:
        """Apply `/memory correct <text>` under the user lock (`name`: how the model calls the
        person; `where`: the provenance the changes keep): what the model changed, and how many
        things were forgotten (a correction's removals are erasures, and so is what it asks to
        forget that only history and Undo still held). Raises ExtractionFailed or
        ModelUnavailable as the extractor does, with nothing written."""
        async with self.locks.hold(user_key):
            memory = await self.repository.load(user_key)
            changes = await self.extractor.correct(name, existing_for(memory, "dm", text), text)
            asking = [text] if asks_to_forget([text]) else []
            report = await self._write(user_key, memory, changes, where, asking=asking)
            if report.forgotten:
                await self.repository.mark_forgotten(user_key)  # final: nothing older to undo
            return changes, report.forgotten

    async def _write(
        self,
        user_key: str,
        memory: UserMemory,
        changes: MemoryChanges,
        where: Provenance,
        sources: list[SourceRef] | None = None,
        messages: list[PendingMessage] | None = None,
        erase_removals: bool = True,
        change_set: str | None = None,
        asking: list[str] | None = None,
    ) -> WriteReport:
        """Write what an extraction decided; `sources` are the messages it was learned from,
        `messages` the same messages with their words, so each change names its own.

        `erase_removals`: the person asked for what is removed to be forgotten (a correction,
        or "forget that ..." in chat), so no copy of it is kept anywhere. Otherwise (and always
        for consolidation) a removal is the model's own, kept in the report with its
        before-state so Undo can put it back. `change_set`: the id of the round's change set,
        kept on each history entry. `asking`: the messages (or correction) that ask for
        something to be forgotten; what they name that is no longer remembered is erased from
        history and Undo too.
        """
        report = WriteReport()
        housekeeping = where.message_id == CONSOLIDATION
        erase_removals = erase_removals and not housekeeping
        sources = sources or []

        def narrowed(text: str) -> list[SourceRef]:
            # Only the messages of the batch this change may have come from (see attribution).
            if not messages:
                return sources
            return [source_ref(m) for m in sources_of(text, messages)]

        def origin(text: str) -> Provenance:
            # The message of the batch this change came from (by its words), not the last one.
            return provenance(source_of(text, messages)) if messages else where

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
                    change_set=change_set,
                )
            )

        forgotten: list[SourceRef] = []
        texts: list[str] = []
        for name, document in changes.profiles.items():
            described = self.kinds.get(name)
            if described is None:
                continue
            document_now = memory.of(name).get(where.audience)
            if document_now is not None and document_now.fit == "invalid":
                # It no longer fits its schema: kept as it is until the deployer migrates it.
                log.warning("left a %s profile that no longer fits its schema", name)
                continue
            erased = await write_profile(
                self.repository,
                user_key,
                memory,
                described,
                document,
                where,
                narrowed,
                note,
                report,
                erase_removed=erase_removals,
            )
            report.forgotten += len(erased)
            for name, (field_refs, field_texts) in erased.items():
                # Its earlier values, which history and Undo still hold, go with it.
                old = await traces_of(self.repository, user_key, {field_id(name)}, field_texts)
                await forget_traces(self.repository, user_key, old)
                asked = narrowed(" ".join(field_texts))
                forgotten = merge_sources(forgotten, field_refs, asked, old.sources)
                texts.extend((*field_texts, *old.texts))
        stored = memory.items()
        known = {
            (item.kind, same_text(item.kind, item.data, self.kinds)) for item in stored.values()
        }
        taken = set(stored)
        for kind, data in changes.inserts:
            section = self.kinds.by_item(kind)
            if section is None:
                continue
            if about_someone_else(kind, data, self.kinds):
                log.info("dropped a fact about someone else", extra={"user": user_key})
                continue
            if (kind, same_text(kind, data, self.kinds)) in known:
                continue  # said again: one memory, not five
            known.add((kind, same_text(kind, data, self.kinds)))
            key = new_item_id(taken)
            taken.add(key)
            text = same_text(kind, data, self.kinds)
            item = StoredItem(
                kind=kind, data=data, provenance=origin(text), sources=narrowed(text)
            ).read_as(section)
            await self._embed(item)
            await self.repository.put(user_key, section.name, key, item)
            note("added", key, kind, item.text(), came=text)
            report.changes.append(
                ItemChange(
                    item_id=key, place=section.name, change="added", summary=item.text(), after=data
                )
            )
        for key, data in changes.updates.items():
            current = memory.item(key)
            owner = memory.kind_of(key)
            if (
                current is None
                or owner is None
                or about_someone_else(current.kind, data, self.kinds)
            ):
                continue
            # An update keeps the item's id; learning it again here moves it to this audience.
            # Consolidation is housekeeping, not learning: items keep where they came from.
            source = (
                current.provenance
                if housekeeping
                else origin(same_text(current.kind, data, self.kinds))
            )
            said = narrowed(same_text(current.kind, data, self.kinds))
            merged = current.sources if housekeeping else merge_sources(current.sources, said)
            updated = StoredItem(
                kind=current.kind, data=data, provenance=source, sources=merged
            ).read_as(owner)
            updated.previous = earlier_values(current, updated, where.message_id or "")
            await self._embed(updated)
            await self.repository.put(user_key, owner.name, key, updated)
            report.changes.append(
                ItemChange(
                    item_id=key,
                    place=owner.name,
                    change="changed",
                    summary=updated.text(),
                    before=current.model_dump(mode="json"),
                    after=data,
                )
            )
            # `old -> new`, as a profile field's change reads.
            was, becomes = current.text(), updated.text()
            note(
                "changed",
                key,
                current.kind,
                f"{was} -> {becomes}" if was != becomes else becomes,
                came=same_text(current.kind, data, self.kinds),
            )
        for key in changes.deletes:
            current = memory.item(key)
            owner = memory.kind_of(key)
            if current is None or owner is None:
                continue
            await self.repository.delete(user_key, owner.name, key)
            if not erase_removals:
                # The model's own removal (an outdated fact, a merged duplicate, a cap): undoable.
                note("removed", key, current.kind, current.text())
                report.changes.append(
                    ItemChange(
                        item_id=key,
                        place=owner.name,
                        change="removed",
                        summary=current.text(),
                        before=current.model_dump(mode="json"),
                    )
                )
                continue
            # Removed because the person asked ("forget that ..."): no copy of its text is kept,
            # neither in history nor in the turns it was learned from or asked to be forgotten in,
            # of this version or of any earlier one history and Undo still hold.
            old = await traces_of(self.repository, user_key, {key}, current.remembered_texts())
            await forget_traces(self.repository, user_key, old)
            note("removed", key, current.kind, "(forgotten)", current.text())
            report.forgotten += 1
            # The request to forget it goes too (it names what was forgotten).
            asked = narrowed(" ".join(current.remembered_texts()))
            forgotten = merge_sources(
                forgotten, current.sources, last_source(current), asked, old.sources
            )
            texts.extend((*current.remembered_texts(), *old.texts))
        if asking:
            # What the request names may be no longer remembered (the model removed it on its
            # own earlier, or an Undo took it back) while history and Undo still hold its words.
            now = await self.repository.load(user_key)
            gone = await no_longer_remembered(self.repository, user_key, now)
            named = named_by(asking, {k: t.texts for k, t in gone.items()}, spoken_for=texts)
            for key in named:
                old = gone[key]
                found = await traces_of(self.repository, user_key, {key}, old.texts)
                await forget_traces(self.repository, user_key, found)
                note("removed", key, old.kind or "item", "(forgotten)", " ".join(old.texts))
                report.forgotten += 1
                asked = narrowed(" ".join(old.texts))
                forgotten = merge_sources(forgotten, old.sources, found.sources, asked)
                texts.extend(old.texts)
            # Or what a remembered item said before a later message changed it.
            now = await self.repository.load(user_key)
            history = (await self.repository.history(user_key)).values()
            earlier = {**earlier_candidates(now), **earlier_field_values(now, history)}
            for name in spelled_out(asking, earlier):
                words = earlier[name]
                found = await traces_of(self.repository, user_key, set(), words)
                await forget_traces(self.repository, user_key, found)
                report.forgotten += 1
                asked = narrowed(" ".join(words))
                forgotten = merge_sources(forgotten, found.sources, asked)
                texts.extend(words)
        if forgotten or texts:
            await self.repository.record_erasure(user_key, ErasureEvent(sources=forgotten))
            await self.redactor.redact(user_key, forgotten, tuple(texts))
        await self.repository.add_history(user_key, report.history, self.policy.max_history)
        return report

    async def _embed(self, item: StoredItem) -> None:
        if self.semantic is not None:
            item.embedding = (await self.semantic.embed([item.text()]))[0]

    async def _announce(self, user_key: str, learned: list[PendingMessage]) -> None:
        for message in learned:
            event = Learned(user_key, message.conversation, message.message_id, message.platform)
            for listener in self.listeners:
                try:
                    await listener(event)
                except Exception:
                    log.exception("a learned-listener failed", extra={"user": user_key})
