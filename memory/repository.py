"""The store repository: every read and write of a user's memory goes through here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from langgraph.store.base import BaseStore, GetOp, Item, SearchOp

from memory.identity import Audience
from memory.namespaces import Section, user_namespace, user_prefix
from memory.pending import PendingMessage
from memory.schemas import StoredItem, upgrade

PROFILE_KEYS: tuple[Audience, ...] = ("channel", "dm")
LEARNING_KEY = "learning"
SEARCH_LIMIT = 2000


@dataclass
class UserMemory:
    """Everything recall needs for one user, read in one store round trip."""

    profiles: dict[str, StoredItem] = field(default_factory=dict)
    facts: dict[str, StoredItem] = field(default_factory=dict)
    todos: dict[str, StoredItem] = field(default_factory=dict)
    paused: bool = False

    def visible_to(self, audience: Audience) -> UserMemory:
        """Only what may be used in this audience: DM-learned memory stays in DMs."""
        if audience == "dm":
            return self

        def keep(items: dict[str, StoredItem]) -> dict[str, StoredItem]:
            return {k: v for k, v in items.items() if v.audience == "channel"}

        return UserMemory(keep(self.profiles), keep(self.facts), keep(self.todos), self.paused)

    def merged_profile(self) -> dict[str, Any]:
        """The channel profile overlaid with the DM profile (when visible)."""
        merged: dict[str, Any] = {}
        for key in PROFILE_KEYS:
            if key in self.profiles:
                merged.update({k: v for k, v in self.profiles[key].data.items() if v})
        return merged


def _items(found: list[Item] | None) -> dict[str, StoredItem]:
    return {item.key: upgrade(item.value) for item in found or []}


class MemoryRepository:
    """Reads and writes one user's memory; every method takes the user key explicitly."""

    def __init__(self, store: BaseStore) -> None:
        self.store = store

    async def load(self, user_key: str) -> UserMemory:
        results = await self.store.abatch(
            [
                SearchOp(user_namespace(user_key, "profile"), limit=len(PROFILE_KEYS)),
                SearchOp(user_namespace(user_key, "facts"), limit=SEARCH_LIMIT),
                SearchOp(user_namespace(user_key, "todos"), limit=SEARCH_LIMIT),
                GetOp(user_namespace(user_key, "settings"), LEARNING_KEY),
            ]
        )
        profiles, facts, todos, learning = results
        paused = bool(learning and learning.value.get("paused"))  # type: ignore[union-attr]
        return UserMemory(
            profiles=_items(profiles),  # type: ignore[arg-type]
            facts=_items(facts),  # type: ignore[arg-type]
            todos=_items(todos),  # type: ignore[arg-type]
            paused=paused,
        )

    async def put(self, user_key: str, section: Section, key: str, item: StoredItem) -> None:
        item.updated_at = datetime.now(UTC)
        await self.store.aput(
            user_namespace(user_key, section), key, item.model_dump(mode="json"), index=False
        )

    async def delete(self, user_key: str, section: Section, key: str) -> None:
        await self.store.adelete(user_namespace(user_key, section), key)

    async def is_paused(self, user_key: str) -> bool:
        found = await self.store.aget(user_namespace(user_key, "settings"), LEARNING_KEY)
        return bool(found and found.value.get("paused"))

    async def set_paused(self, user_key: str, paused: bool) -> None:
        namespace = user_namespace(user_key, "settings")
        if paused:
            await self.store.aput(namespace, LEARNING_KEY, {"paused": True}, index=False)
        else:
            await self.store.adelete(namespace, LEARNING_KEY)

    async def add_pending(self, user_key: str, key: str, pending: PendingMessage) -> None:
        await self.store.aput(
            user_namespace(user_key, "pending"), key, pending.model_dump(mode="json"), index=False
        )

    async def list_pending(self, user_key: str) -> dict[str, PendingMessage]:
        found = await self.store.asearch(user_namespace(user_key, "pending"), limit=SEARCH_LIMIT)
        pending = {item.key: PendingMessage.model_validate(item.value) for item in found}
        return dict(sorted(pending.items(), key=lambda kv: kv[1].sent_at))

    async def delete_pending(self, user_key: str, keys: list[str]) -> None:
        namespace = user_namespace(user_key, "pending")
        for key in keys:
            await self.store.adelete(namespace, key)

    async def users_with_pending(self) -> list[str]:
        namespaces = await self.store.alist_namespaces(prefix=("users",), max_depth=3, limit=100000)
        return sorted({ns[1] for ns in namespaces if len(ns) == 3 and ns[2] == "pending"})

    async def note_conversation(self, user_key: str, conversation: str, audience: str) -> None:
        await self.store.aput(
            user_namespace(user_key, "conversations"),
            conversation,
            {"audience": audience},
            index=False,
        )

    async def conversations(self, user_key: str) -> dict[str, str]:
        found = await self.store.asearch(
            user_namespace(user_key, "conversations"), limit=SEARCH_LIMIT
        )
        return {item.key: str(item.value.get("audience", "channel")) for item in found}

    async def delete_everything(self, user_key: str) -> dict[str, int]:
        """Delete every row under the user's prefix; returns counts by section."""
        counts: dict[str, int] = {}
        namespaces = await self.store.alist_namespaces(prefix=user_prefix(user_key), limit=100000)
        for namespace in namespaces:
            while True:
                found = await self.store.asearch(namespace, limit=500)
                if not found:
                    break
                for item in found:
                    await self.store.adelete(namespace, item.key)
                counts[namespace[-1]] = counts.get(namespace[-1], 0) + len(found)
        return counts
