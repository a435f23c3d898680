"""Turning a user's pending messages (or a correction) into stored memory, one user at a time."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from memory.errors import ExtractionFailed
from memory.extraction import ExistingMemory, MemoryChanges, MemoryExtractor
from memory.identity import Audience
from memory.ids import new_item_id
from memory.locks import UserLocks
from memory.namespaces import Section
from memory.pending import PendingMessage
from memory.repository import MemoryRepository, UserMemory
from memory.schemas import Kind, Provenance, StoredItem

log = logging.getLogger(__name__)

SECTION_BY_KIND: dict[Kind, Section] = {"fact": "facts", "todo": "todos", "profile": "profile"}


@dataclass(frozen=True)
class Learned:
    """A message the bot learned something from (adapters may react to it)."""

    user_key: str
    conversation: str
    message_id: str
    platform: str


LearnedListener = Callable[[Learned], Awaitable[None]]


def existing_for(memory: UserMemory, audience: Audience) -> ExistingMemory:
    """What the model may patch when learning in this audience.

    A channel conversation may only touch channel-learned items, so nothing private can be
    rewritten into something shared. A DM may touch everything; what it touches becomes private.
    """
    visible = memory.visible_to(audience)
    profile = visible.profiles.get(audience)
    items = {k: (v.kind, v.data) for k, v in {**visible.facts, **visible.todos}.items()}
    return ExistingMemory(profile=profile.data if profile else None, items=items)


class Learner:
    def __init__(
        self, repository: MemoryRepository, extractor: MemoryExtractor, locks: UserLocks
    ) -> None:
        self.repository = repository
        self.extractor = extractor
        self.locks = locks
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
                        messages[-1].author, existing_for(memory, audience), messages
                    )
                except ExtractionFailed as exc:
                    # The stored memory is left as it was; retrying the same text would fail again.
                    log.warning(
                        "extraction gave no valid update: %s", exc, extra={"user": user_key}
                    )
                    changes = MemoryChanges()
                await self._write(user_key, memory, changes, _provenance(messages[-1]))
                # Consumed per group, so a failure in the next group never re-learns this one.
                await self.repository.delete_pending(user_key, list(group))
                if not changes.empty:
                    learned.extend(messages)
                    memory = await self.repository.load(user_key)
        await self._announce(user_key, learned)
        return len(pending)

    async def correct(
        self, user_key: str, name: str, text: str, where: Provenance
    ) -> MemoryChanges:
        async with self.locks.hold(user_key):
            memory = await self.repository.load(user_key)
            changes = await self.extractor.correct(name, existing_for(memory, "dm"), text)
            await self._write(user_key, memory, changes, where)
            return changes

    async def _write(
        self, user_key: str, memory: UserMemory, changes: MemoryChanges, where: Provenance
    ) -> None:
        audience = where.audience
        if changes.profile is not None:
            item = StoredItem(kind="profile", data=changes.profile, provenance=where)
            await self.repository.put(user_key, "profile", audience, item)
        taken = set(memory.facts) | set(memory.todos)
        for kind, data in changes.inserts:
            key = new_item_id(taken)
            taken.add(key)
            await self.repository.put(
                user_key,
                SECTION_BY_KIND[kind],
                key,
                StoredItem(kind=kind, data=data, provenance=where),
            )
        for key, data in changes.updates.items():
            current = memory.facts.get(key) or memory.todos.get(key)
            if current is None:
                continue
            # An update keeps the item's id; learning it again here moves it to this audience.
            updated = StoredItem(kind=current.kind, data=data, provenance=where)
            await self.repository.put(user_key, SECTION_BY_KIND[current.kind], key, updated)
        for key in changes.deletes:
            current = memory.facts.get(key) or memory.todos.get(key)
            if current is not None:
                await self.repository.delete(user_key, SECTION_BY_KIND[current.kind], key)

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
    )
