"""The /memory operations: show, forget, forget all, correct, export, pause, resume.

Every operation takes the caller's UserRef and touches only that user's namespaces.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from memory.commands.history import HistoryEntry
from memory.commands.results import (
    CommandResult,
    ConfirmForgetAll,
    CorrectResult,
    ExportResult,
    ForgetAllReceipt,
    ForgetResult,
    HelpResult,
    HistoryResult,
    ItemView,
    LearningResult,
    ShowResult,
    ShowSection,
    UndoResult,
)
from memory.commands.undo import undo
from memory.commands.verbs import MemoryCommand
from memory.commands.why import explain
from memory.erasure.conversations import ConversationStates
from memory.erasure.log import ErasureEvent
from memory.erasure.traces import forget_traces, traces_of
from memory.errors import CommandError
from memory.identity import ConversationRef, UserRef
from memory.ids import field_name
from memory.kinds import KindRegistry, MemoryKind
from memory.learning.catch_up import catch_up
from memory.learning.learner import Learner
from memory.learning.scheduler import ExtractionScheduler
from memory.schemas import Provenance, SourceRef, StoredItem, merge_sources
from memory.storage.locks import UserLocks
from memory.storage.namespaces import is_memory_section
from memory.storage.repository import MemoryRepository, UserMemory


def _views(items: dict[str, Any]) -> list[ItemView]:
    views = [ItemView.of(key, item) for key, item in items.items()]
    return sorted(views, key=lambda v: v.learned_at)


def _field_views(memory: UserMemory, kind: MemoryKind) -> list[ItemView]:
    """Each field of a profile kind as an item of its own (a DM-learned value shown over a
    channel one)."""
    fields: dict[str, ItemView] = {}
    for audience in ("channel", "dm"):
        profile = memory.of(kind.name).get(audience)
        for name, value in profile.data.items() if profile else []:
            if value not in (None, "", []):
                fields[name] = ItemView.of_field(name, profile)  # type: ignore[arg-type]
    return list(fields.values())


class MemoryOperations:
    """The /memory verbs on one person's memory (show, forget, forget all, correct, export, history,
    undo, why, pause and resume; link and unlink are memory.accounts.linking's).
    `show_wait_seconds`: how long show and export wait for pending learning first. Every result
    is a memory.commands.results value for an adapter to render."""

    def __init__(
        self,
        repository: MemoryRepository,
        learner: Learner,
        conversations: ConversationStates,
        scheduler: ExtractionScheduler,
        locks: UserLocks,
        *,
        show_wait_seconds: float = 3.0,
    ) -> None:
        self.show_wait_seconds = show_wait_seconds
        self.repository = repository
        self.learner = learner
        self.conversations = conversations
        self.scheduler = scheduler
        self.locks = locks
        # Every id a person's turns may be stored under (memory.accounts.people sets it).
        self.authored_ids: Callable[[str], Awaitable[set[str]]] = _only

    async def run(
        self,
        user: UserRef,
        command: MemoryCommand,
        where: ConversationRef | None = None,
        person: str | None = None,
    ) -> CommandResult:
        """Run `command` on the memory of `person` (the person `user`'s account resolves to;
        the account key when not given)."""
        key = person or user.key
        if command.action == "show":
            learning = await self._catch_up(key, command)
            shown = self._show(await self.repository.load(key), command.scope)
            return replace(shown, still_learning=learning)
        if command.action == "forget" and command.item_id:
            return await self._forget(key, command.item_id)
        if command.action == "forget_all":
            if not command.confirmed:
                memory = await self.repository.load(key)
                counts = {
                    # Each profile field is one thing.
                    kind.name: len(
                        _field_views(memory, kind) if kind.is_profile else memory.of(kind.name)
                    )
                    for kind in self.kinds
                }
                # Kinds no longer declared are erased too, so they are counted.
                for section, items in (await self.repository.undeclared(key)).items():
                    counts[section] = len(items)
                return ConfirmForgetAll(counts)
            return await self._forget_all(key)
        if command.action == "correct" and command.text:
            return await self._correct(user, key, command.text, where)
        if command.action == "export":
            learning = await self._catch_up(key, command)
            entries = list((await self.repository.history(key)).values())
            memory = await self.repository.load(key)
            undeclared = await self.repository.undeclared(key)
            exported = self._export(user, memory, entries, undeclared)
            return replace(exported, still_learning=learning)
        if command.action == "history":
            await self._catch_up(key, command)
            history = await self.repository.history(key)
            return HistoryResult(list(history.values()))
        if command.action == "undo":
            if command.item_id is None and await self._catch_up(key, command):
                # "The latest" is not known while messages are still being learned from.
                return UndoResult(reverted=[], reason="learning")
            policy = self.learner.policy
            return await undo(self.repository, self.locks, key, command.item_id, policy.max_history)
        if command.action == "why" and command.item_id:
            # What was just said is learned first, so the answer names the message in effect.
            await self._catch_up(key, command)
            return await explain(self.repository, self.conversations, key, command.item_id)
        if command.action in ("pause", "resume"):
            return await self._set_learning(key, paused=command.action == "pause")
        return HelpResult()

    async def _catch_up(self, user_key: str, command: MemoryCommand) -> int:
        if not command.fresh:
            return 0
        return await catch_up(self.repository, self.scheduler, user_key, self.show_wait_seconds)

    @property
    def kinds(self) -> KindRegistry:
        """The kinds this bot runs with (the learner's)."""
        return self.learner.kinds

    def _show(self, memory: UserMemory, scope: str) -> ShowResult:
        now = datetime.now(UTC)
        wanted = self.kinds.scope(scope) if scope != "all" else "all"
        if wanted is None:
            raise CommandError(
                f"`show` takes {', '.join(self.kinds.names)} (or nothing, for all), not `{scope}`."
            )
        sections = []
        for kind in self.kinds:
            if wanted not in ("all", kind.name):
                continue
            if kind.is_profile:
                views = _field_views(memory, kind)
            else:
                views = sorted(
                    (
                        ItemView.of(k, v, kind.state(v.data, v.updated_at, now))
                        for k, v in memory.of(kind.name).items()
                        if not kind.is_gone(v.data, v.updated_at, now)
                    ),
                    key=lambda v: v.learned_at,
                )
            sections.append(ShowSection(kind.name, kind.title, views, kind.is_profile))
        return ShowResult(scope=wanted, sections=tuple(sections), paused=memory.paused)

    async def _forget(self, user_key: str, item_id: str) -> ForgetResult:
        async with self.locks.hold(user_key):
            forgotten = await self._erase_item(user_key, item_id)
            # Forgetting is final and the newest change: a bare Undo now takes back nothing
            # learned before it.
            await self.repository.mark_forgotten(user_key)
            return forgotten

    async def _erase_item(self, user_key: str, item_id: str) -> ForgetResult:
        """Forget one item of `user_key` (call under the user lock). Raises CommandError when
        they have no such item."""
        memory = await self.repository.load(user_key)
        owner = memory.kind_of(item_id)
        if owner is not None:
            item = memory.of(owner.name)[item_id]
            # Every version it had is forgotten with it: history and Undo keep the older ones,
            # and the same words kept under another id (learned again after an Undo).
            traces = await traces_of(self.repository, user_key, {item_id}, item.remembered_texts())
            sources = merge_sources(_sources_of(item), traces.sources)
            texts = (*item.remembered_texts(), *traces.texts)
            await self.repository.record_erasure(user_key, ErasureEvent(sources=sources))
            await self.repository.delete(user_key, owner.name, item_id)
            await forget_traces(self.repository, user_key, traces)
            await self.learner.redactor.redact(user_key, sources, texts)
            return ForgetResult(ItemView.of(item_id, item))
        field = field_name(item_id)
        # A field the schema no longer declares is still shown while stored: find it there.
        kind = self.kinds.profile_of(field) or next(
            (
                k
                for k in self.kinds.profiles
                if any(p.data.get(field) for p in memory.of(k.name).values())
            ),
            None,
        )
        profiles = memory.of(kind.name) if kind is not None else {}
        owners = {a: p for a, p in profiles.items() if p.data.get(field)}
        if kind is not None and owners:
            if field in kind.fields and not kind.may_forget(field):
                raise CommandError(
                    f"`{item_id}` can't be forgotten on its own; `/memory correct` changes "
                    "it, and `/memory forget all` forgets everything."
                )
            shown = ItemView.of_field(field, next(iter(owners.values())))
            values = [t for p in owners.values() for t in p.remembered_texts(field)]
            traces = await traces_of(self.repository, user_key, {item_id}, values)
            sources = merge_sources(
                *(p.field_sources.get(field, []) for p in owners.values()), traces.sources
            )
            texts = (*values, *traces.texts)
            await self.repository.record_erasure(user_key, ErasureEvent(sources=sources))
            for audience, profile in owners.items():
                data = {**profile.data, field: _empty(profile.data[field])}
                kept = {k: v for k, v in profile.field_sources.items() if k != field}
                updated = profile.model_copy(update={"data": data, "field_sources": kept})
                await self.repository.put(user_key, kind.name, audience, updated)
            await forget_traces(self.repository, user_key, traces)
            # Entries written before fields had ids hold the whole profile as text.
            await self.repository.forget_history_of(user_key, kind.name)
            await self.learner.redactor.redact(user_key, sources, texts)
            return ForgetResult(shown)
        # An item of a kind this configuration no longer declares is still theirs to forget.
        for section, items in (await self.repository.undeclared(user_key)).items():
            if item_id in items:
                item = items[item_id]
                words = item.remembered_texts()
                traces = await traces_of(self.repository, user_key, {item_id}, words)
                sources = merge_sources(_sources_of(item), traces.sources)
                texts = (*item.remembered_texts(), *traces.texts)
                await self.repository.record_erasure(user_key, ErasureEvent(sources=sources))
                await self.repository.delete(user_key, section, item_id)
                await forget_traces(self.repository, user_key, traces)
                await self.learner.redactor.redact(user_key, sources, texts)
                return ForgetResult(ItemView.of(item_id, item))
        # No longer remembered (the model removed it, or an Undo did) but its words are still
        # in its history or an undo state: forgetting its id erases those too.
        traces = await traces_of(self.repository, user_key, {item_id})
        entries = [
            e for e in (await self.repository.history(user_key)).values() if e.item_id == item_id
        ]
        if entries or traces.texts:
            sources = traces.sources
            await self.repository.record_erasure(user_key, ErasureEvent(sources=sources))
            await forget_traces(self.repository, user_key, traces)
            await self.learner.redactor.redact(user_key, sources, traces.texts)
            last = entries[-1] if entries else None
            return ForgetResult(
                ItemView(
                    id=item_id,
                    kind=traces.kind or (last.kind if last else ""),
                    text=traces.texts[-1] if traces.texts else "(its history)",
                    audience="",
                    platform="",
                    conversation=(last.conversation or "") if last else "",
                    learned_at=last.at if last else datetime.now(UTC),
                )
            )
        raise CommandError(
            f"I have no memory with id `{item_id}` for you. `/memory show` lists your ids."
        )

    async def _forget_all(self, user_key: str) -> ForgetAllReceipt:
        self.scheduler.drop(user_key)
        async with self.locks.hold(user_key):
            # The marker first: work in flight anywhere sees it and keeps nothing it made.
            await self.repository.record_erasure(user_key, ErasureEvent(everything=True))
            was_paused = await self.repository.is_paused(user_key)
            conversations = await self.repository.conversations(user_key)
            dms = [thread for thread, audience in conversations.items() if audience == "dm"]
            for thread in dms:
                await self.conversations.delete(thread)
            shared = 0
            authors = await self.authored_ids(user_key)
            for thread, audience in conversations.items():
                if audience != "dm":
                    shared += bool(
                        await self.conversations.remove_turns(thread, authored_by=authors)
                    )
            deleted = await self.repository.delete_everything(user_key)
            if was_paused:
                # Keep honouring "don't learn from me"; this row holds no memory.
                await self.repository.set_paused(user_key, True)
        # Every kind's rows, of kinds declared now or once, and the messages not yet learned.
        shown = {k: v for k, v in deleted.items() if is_memory_section(k) or k == "pending"}
        return ForgetAllReceipt(
            deleted=shown, conversations=len(dms), paused=was_paused, channel_threads=shared
        )

    async def _correct(
        self, user: UserRef, key: str, text: str, where: ConversationRef | None
    ) -> CorrectResult:
        provenance = Provenance(
            platform=where.platform if where else user.platform,
            conversation=where.key if where else "correction",
            message_id="correction",
            # A correction is the person's own word about themselves: kept private.
            audience="dm",
        )
        before = await self.repository.load(key)
        changes, forgotten = await self.learner.correct(key, user.name, text, provenance)
        after = await self.repository.load(key)
        items = after.items()
        old = before.items()
        return CorrectResult(
            added=[ItemView.of(k, v) for k, v in items.items() if k not in old],
            changed=[ItemView.of(k, items[k]) for k in changes.updates if k in items],
            removed=max(len(changes.deletes), forgotten),
            profile_changed=bool(changes.profiles),
        )

    def _export(
        self,
        user: UserRef,
        memory: UserMemory,
        history: list[HistoryEntry],
        undeclared: dict[str, dict[str, StoredItem]],
    ) -> ExportResult:
        """Everything kept: each kind under its name (items as stored, also those that no
        longer fit their schema), kinds no longer declared under theirs, and the history."""

        def dump(items: dict[str, StoredItem]) -> list[dict[str, Any]]:
            return [{"id": k, **v.model_dump(mode="json")} for k, v in items.items()]

        document: dict[str, Any] = {
            "user": user.key,
            "exported_at": datetime.now(UTC).isoformat(),
            "learning_paused": memory.paused,
        }
        for kind in self.kinds:
            document[kind.name] = dump(memory.of(kind.name))
        for section, items in undeclared.items():
            document.setdefault(section, dump(items))
        document["history"] = [entry.model_dump(mode="json") for entry in history]
        text = json.dumps(document, indent=2, ensure_ascii=False)
        filename = f"memory-{user.key.replace(':', '-')}.json"
        return ExportResult(document=document, json_text=text, filename=filename)

    async def _set_learning(self, user_key: str, *, paused: bool) -> LearningResult:
        if paused:
            self.scheduler.drop(user_key)
        async with self.locks.hold(user_key):
            await self.repository.set_paused(user_key, paused)
            if paused:
                pending = await self.repository.list_pending(user_key)
                await self.repository.delete_pending(user_key, list(pending))
        return LearningResult(paused=paused)


async def _only(person: str) -> set[str]:
    return {person}


def _sources_of(item: StoredItem) -> list[SourceRef]:
    """The messages an item came from (older items know only the last one)."""
    where = item.provenance
    if not where.message_id:
        return item.sources
    last = SourceRef(conversation=where.conversation, message_id=where.message_id)
    return merge_sources(item.sources, [last])


def _empty(value: Any) -> Any:
    return [] if isinstance(value, list) else None
