"""The /memory operations: show, forget, forget all, correct, export, pause, resume.

Every operation takes the caller's UserRef and touches only that user's namespaces.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from memory.commands import MemoryCommand
from memory.errors import CommandError
from memory.identity import ConversationRef, UserRef
from memory.learning import Learner
from memory.locks import UserLocks
from memory.repository import MemoryRepository, UserMemory
from memory.results import (
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
)
from memory.scheduler import ExtractionScheduler
from memory.schemas import Provenance


def _views(items: dict[str, Any]) -> list[ItemView]:
    views = [ItemView.of(key, item) for key, item in items.items()]
    return sorted(views, key=lambda v: v.learned_at)


class MemoryOperations:
    def __init__(
        self,
        repository: MemoryRepository,
        learner: Learner,
        checkpointer: BaseCheckpointSaver[Any],
        scheduler: ExtractionScheduler,
        locks: UserLocks,
    ) -> None:
        self.repository = repository
        self.learner = learner
        self.checkpointer = checkpointer
        self.scheduler = scheduler
        self.locks = locks

    async def run(
        self, user: UserRef, command: MemoryCommand, where: ConversationRef | None = None
    ) -> CommandResult:
        key = user.key
        if command.action == "show":
            return self._show(await self.repository.load(key), command.scope)
        if command.action == "forget" and command.item_id:
            return await self._forget(key, command.item_id)
        if command.action == "forget_all":
            if not command.confirmed:
                memory = await self.repository.load(key)
                counts = {
                    "profile": len(memory.profiles),
                    "facts": len(memory.facts),
                    "todos": len(memory.todos),
                }
                return ConfirmForgetAll(counts)
            return await self._forget_all(key)
        if command.action == "correct" and command.text:
            return await self._correct(user, command.text, where)
        if command.action == "export":
            return self._export(user, await self.repository.load(key))
        if command.action == "history":
            history = await self.repository.history(key)
            return HistoryResult(list(history.values()))
        if command.action in ("pause", "resume"):
            return await self._set_learning(key, paused=command.action == "pause")
        return HelpResult()

    def _show(self, memory: UserMemory, scope: str) -> ShowResult:
        now = datetime.now(UTC)
        policy = self.learner.policy
        todos = [
            ItemView.of(k, v, policy.todo_state(v, now))
            for k, v in memory.todos.items()
            if not policy.todo_is_gone(v, now)
        ]
        return ShowResult(
            scope=scope,
            profiles=_views(memory.profiles) if scope in ("all", "profile") else [],
            facts=_views(memory.facts) if scope in ("all", "facts") else [],
            todos=sorted(todos, key=lambda v: v.learned_at) if scope in ("all", "todos") else [],
            paused=memory.paused,
        )

    async def _forget(self, user_key: str, item_id: str) -> ForgetResult:
        async with self.locks.hold(user_key):
            memory = await self.repository.load(user_key)
            for section, items in (("facts", memory.facts), ("todos", memory.todos)):
                if item_id in items:
                    await self.repository.delete(user_key, section, item_id)  # type: ignore[arg-type]
                    await self.repository.forget_history_of(user_key, item_id)
                    return ForgetResult(ItemView.of(item_id, items[item_id]))
        raise CommandError(
            f"I have no memory with id `{item_id}` for you. `/memory show` lists your ids."
        )

    async def _forget_all(self, user_key: str) -> ForgetAllReceipt:
        self.scheduler.drop(user_key)
        async with self.locks.hold(user_key):
            was_paused = await self.repository.is_paused(user_key)
            conversations = await self.repository.conversations(user_key)
            dms = [thread for thread, audience in conversations.items() if audience == "dm"]
            for thread in dms:
                await self.checkpointer.adelete_thread(thread)
            deleted = await self.repository.delete_everything(user_key)
            if was_paused:
                # Keep honouring "don't learn from me"; this row holds no memory.
                await self.repository.set_paused(user_key, True)
        shown = {k: v for k, v in deleted.items() if k in ("profile", "facts", "todos", "pending")}
        return ForgetAllReceipt(deleted=shown, conversations=len(dms), paused=was_paused)

    async def _correct(
        self, user: UserRef, text: str, where: ConversationRef | None
    ) -> CorrectResult:
        provenance = Provenance(
            platform=where.platform if where else user.platform,
            conversation=where.key if where else "correction",
            message_id="correction",
            # A correction is the person's own word about themselves: kept private.
            audience="dm",
        )
        before = await self.repository.load(user.key)
        changes = await self.learner.correct(user.key, user.name, text, provenance)
        after = await self.repository.load(user.key)
        items = {**after.facts, **after.todos}
        old = {**before.facts, **before.todos}
        return CorrectResult(
            added=[ItemView.of(k, v) for k, v in items.items() if k not in old],
            changed=[ItemView.of(k, items[k]) for k in changes.updates if k in items],
            removed=len(changes.deletes),
            profile_changed=changes.profile is not None,
        )

    @staticmethod
    def _export(user: UserRef, memory: UserMemory) -> ExportResult:
        def dump(items: dict[str, Any]) -> list[dict[str, Any]]:
            return [{"id": k, **v.model_dump(mode="json")} for k, v in items.items()]

        document = {
            "user": user.key,
            "exported_at": datetime.now(UTC).isoformat(),
            "learning_paused": memory.paused,
            "profile": dump(memory.profiles),
            "facts": dump(memory.facts),
            "todos": dump(memory.todos),
        }
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
