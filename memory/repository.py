"""The store repository: every read and write of a user's memory goes through here.

Values pass through a Sealer, so with an encryption key nothing readable reaches the store.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cachetools import LRUCache
from langgraph.store.base import BaseStore, GetOp, Item, PutOp, SearchOp

from memory.changesets import MAX_CHANGE_SETS, ChangeSet
from memory.erasure import ErasureEvent, ErasureLog
from memory.errors import ConfigurationError
from memory.history import HistoryEntry, history_key
from memory.identity import Audience
from memory.namespaces import ROOT, Section, user_namespace, user_prefix
from memory.pending import PendingMessage
from memory.repeats import repeats_of
from memory.schemas import StoredItem, upgrade
from memory.sealing import PlainSealer, Sealer
from memory.stats import MemorySizes

PROFILE_KEYS: tuple[Audience, ...] = ("channel", "dm")
LEARNING_KEY = "learning"
SEARCH_LIMIT = 2000
PARSED_CACHE = 50_000
MEMORY_CACHE = 5_000
REVISION_KEY = "revision"
READABLE_SAMPLE = 200
ERASURE_KEY = "log"
# Kept through forget all: it holds tokens and message ids, never remembered text, and it is
# what tells work still in flight that everything was forgotten.
KEPT_BY_FORGET_ALL = "erasure"


@dataclass
class UserMemory:
    """Everything recall needs for one user, read in one store round trip."""

    profiles: dict[str, StoredItem] = field(default_factory=dict)
    facts: dict[str, StoredItem] = field(default_factory=dict)
    todos: dict[str, StoredItem] = field(default_factory=dict)
    paused: bool = False
    # The erasure log's token when this was read: work started now records it.
    erasure_token: str | None = None

    def visible_to(self, audience: Audience) -> UserMemory:
        """Only what may be used in this audience: DM-learned memory stays in DMs."""
        if audience == "dm":
            return self

        def keep(items: dict[str, StoredItem]) -> dict[str, StoredItem]:
            return {k: v for k, v in items.items() if v.audience == "channel"}

        return UserMemory(
            keep(self.profiles), keep(self.facts), keep(self.todos), self.paused, self.erasure_token
        )

    def merged_profile(self) -> dict[str, Any]:
        """The channel profile overlaid with the DM profile (when visible)."""
        merged: dict[str, Any] = {}
        for key in PROFILE_KEYS:
            if key in self.profiles:
                merged.update({k: v for k, v in self.profiles[key].data.items() if v})
        return merged

    def item(self, key: str) -> StoredItem | None:
        return self.facts.get(key) or self.todos.get(key)


class MemoryRepository:
    """Reads and writes one user's memory; every method takes the user key explicitly."""

    def __init__(
        self, store: BaseStore, sealer: Sealer | None = None, sizes: MemorySizes | None = None
    ) -> None:
        """`sizes`, when given, is told each person's memory size on every full read."""
        self.store = store
        self.sealer: Sealer = sealer or PlainSealer()
        self._sizes = sizes
        # Whole memories by user, with the revision they were read at; least recently used
        # dropped first.
        self._memories: LRUCache[str, tuple[Any, UserMemory]] = LRUCache(maxsize=MEMORY_CACHE)
        # Parsed items by (namespace, key), kept with the raw value they came from: a row
        # that has not changed is not decrypted and validated again on every recall.
        # (Timestamps can't tell: SQLite's have one-second resolution.) Never mutated.
        self._parsed: LRUCache[tuple[Any, ...], tuple[dict[str, Any], StoredItem]] = LRUCache(
            maxsize=PARSED_CACHE
        )

    def _items(self, found: list[Item] | None) -> dict[str, StoredItem]:
        return {item.key: self._parse(item) for item in found or []}

    def _parse(self, item: Item) -> StoredItem:
        marker = (item.namespace, item.key)
        cached = self._parsed.get(marker)
        if cached is not None and cached[0] == item.value:
            return cached[1]
        parsed = upgrade(self.sealer.open(item.value))
        self._parsed[marker] = (item.value, parsed)
        return parsed

    async def _put(self, user_key: str, section: Section, key: str, value: dict[str, Any]) -> None:
        namespace = user_namespace(user_key, section)
        await self.store.aput(namespace, key, self.sealer.seal(value), index=False)

    async def load(self, user_key: str) -> UserMemory:
        """The user's memory; one small read when nothing changed since this process last looked.

        Every write stores a new revision token after its data, and this reads the token
        before the data, so a cached copy is used only while it is current, whichever
        process wrote last.
        """
        settings = user_namespace(user_key, "settings")
        cached = self._memories.get(user_key)  # a hit counts as a use
        if cached is not None:
            current = await self.store.aget(settings, REVISION_KEY)
            if current is not None and current.value.get("rev") == cached[0]:
                return cached[1]
        results = await self.store.abatch(
            [
                GetOp(settings, REVISION_KEY),
                SearchOp(user_namespace(user_key, "profile"), limit=len(PROFILE_KEYS)),
                SearchOp(user_namespace(user_key, "facts"), limit=SEARCH_LIMIT),
                SearchOp(user_namespace(user_key, "todos"), limit=SEARCH_LIMIT),
                GetOp(settings, LEARNING_KEY),
                GetOp(user_namespace(user_key, "erasure"), ERASURE_KEY),
            ]
        )
        revision, profiles, facts, todos, learning, erasure = results
        if self._sizes is not None:
            self._sizes.record(user_key, [*profiles, *facts, *todos])  # type: ignore[misc]
        paused = bool(learning and self.sealer.open(learning.value).get("paused"))  # type: ignore[union-attr]
        memory = UserMemory(
            profiles=self._items(profiles),  # type: ignore[arg-type]
            facts=self._items(facts),  # type: ignore[arg-type]
            todos=self._items(todos),  # type: ignore[arg-type]
            paused=paused,
            erasure_token=self._erasure_log(erasure).token,  # type: ignore[arg-type]
        )
        if revision is not None:
            self._memories[user_key] = (revision.value.get("rev"), memory)  # type: ignore[union-attr]
        return memory

    async def _changed(self, user_key: str) -> None:
        """After a write: a new revision, so every process reloads this user's memory."""
        self._memories.pop(user_key, None)
        await self.store.aput(
            user_namespace(user_key, "settings"),
            REVISION_KEY,
            {"rev": secrets.token_hex(8)},
            index=False,
        )

    async def changed(self, user_key: str) -> None:
        """Rows of this user were written around the repository (memory.people moves a
        person's rows): every process reloads the user's memory."""
        await self._changed(user_key)

    async def put(self, user_key: str, section: Section, key: str, item: StoredItem) -> None:
        item.updated_at = datetime.now(UTC)
        await self._put(user_key, section, key, item.model_dump(mode="json"))
        await self._changed(user_key)

    async def delete(self, user_key: str, section: Section, key: str) -> None:
        await self.store.adelete(user_namespace(user_key, section), key)
        await self._changed(user_key)

    def _erasure_log(self, found: Item | None) -> ErasureLog:
        if found is None:
            return ErasureLog()
        return ErasureLog.model_validate(self.sealer.open(found.value))

    async def erasure_log(self, user_key: str) -> ErasureLog:
        """What was forgotten, oldest first (see memory.erasure)."""
        found = await self.store.aget(user_namespace(user_key, "erasure"), ERASURE_KEY)
        return self._erasure_log(found)

    async def record_erasure(self, user_key: str, event: ErasureEvent) -> None:
        """Append an erasure event; call under the user lock, before deleting anything."""
        log = (await self.erasure_log(user_key)).appended(event)
        await self._put(user_key, "erasure", ERASURE_KEY, log.model_dump(mode="json"))
        await self._changed(user_key)

    async def check_readable(self, sample: int = READABLE_SAMPLE) -> None:
        """Open a sample of stored values with the configured key (at start, before anyone is
        answered). Raises ConfigurationError naming MEMORY_ENCRYPTION_KEY when they are sealed
        and there is no key, or a key that did not seal them."""
        found = await self.store.asearch((ROOT,), limit=sample)
        for item in found:
            try:
                self.sealer.open(item.value)
            except Exception as exc:
                raise ConfigurationError(
                    "Stored memory is encrypted and cannot be read with the current settings: "
                    "set MEMORY_ENCRYPTION_KEY to the key it was written with (while rotating, "
                    f"put older keys in MEMORY_ENCRYPTION_OLD_KEYS). ({exc})"
                ) from None

    async def is_paused(self, user_key: str) -> bool:
        found = await self.store.aget(user_namespace(user_key, "settings"), LEARNING_KEY)
        return bool(found and self.sealer.open(found.value).get("paused"))

    async def set_paused(self, user_key: str, paused: bool) -> None:
        if paused:
            await self._put(user_key, "settings", LEARNING_KEY, {"paused": True})
        else:
            await self.store.adelete(user_namespace(user_key, "settings"), LEARNING_KEY)
        await self._changed(user_key)

    async def add_pending(self, user_key: str, key: str, pending: PendingMessage) -> None:
        await self._put(user_key, "pending", key, pending.model_dump(mode="json"))

    async def list_pending(self, user_key: str) -> dict[str, PendingMessage]:
        found = await self.store.asearch(user_namespace(user_key, "pending"), limit=SEARCH_LIMIT)
        pending = {
            item.key: PendingMessage.model_validate(self.sealer.open(item.value)) for item in found
        }
        return dict(sorted(pending.items(), key=lambda kv: kv[1].sent_at))

    async def delete_pending(self, user_key: str, keys: list[str]) -> None:
        namespace = user_namespace(user_key, "pending")
        if keys:  # one round trip; a PutOp without a value deletes
            await self.store.abatch([PutOp(namespace, key, None) for key in keys])

    async def scrub_pending(
        self, user_key: str, message_ids: set[str], texts: tuple[str, ...]
    ) -> None:
        """Drop pending messages that are forgotten or repeat forgotten text (`texts`, as whole
        words, case-insensitive); a reply that repeats it loses the reply only."""
        repeated = repeats_of(texts)
        doomed: list[str] = []
        for key, message in (await self.list_pending(user_key)).items():
            if message.message_id in message_ids or (repeated and repeated.search(message.text)):
                doomed.append(key)
            elif repeated and repeated.search(message.reply):
                kept = message.model_copy(update={"reply": ""})
                await self.add_pending(user_key, key, kept)
        await self.delete_pending(user_key, doomed)

    async def clear_pending_reply(self, user_key: str, key: str) -> None:
        """Forget the reply stored with a pending message (written from memory since erased)."""
        message = (await self.list_pending(user_key)).get(key)
        if message is not None and message.reply:
            await self.add_pending(user_key, key, message.model_copy(update={"reply": ""}))

    async def users_with_pending(self) -> list[str]:
        return await self._users_with("pending")

    async def users_with_todos(self) -> list[str]:
        return await self._users_with("todos")

    async def users_with_changes(self) -> list[str]:
        return await self._users_with("changes")

    async def _users_with(self, section: Section) -> list[str]:
        namespaces = await self.store.alist_namespaces(prefix=("users",), max_depth=3, limit=100000)
        return sorted({ns[1] for ns in namespaces if len(ns) == 3 and ns[2] == section})

    async def note_conversation(self, user_key: str, conversation: str, audience: str) -> None:
        await self._put(user_key, "conversations", conversation, {"audience": audience})

    async def conversations(self, user_key: str) -> dict[str, str]:
        found = await self.store.asearch(
            user_namespace(user_key, "conversations"), limit=SEARCH_LIMIT
        )
        return {
            item.key: str(self.sealer.open(item.value).get("audience", "channel")) for item in found
        }

    async def add_history(self, user_key: str, entries: list[HistoryEntry], cap: int) -> None:
        for entry in entries:
            await self._put(
                user_key, "history", history_key(entry.at), entry.model_dump(mode="json")
            )
        if entries:
            history = await self.history(user_key)
            for key in list(history)[:-cap] if len(history) > cap else []:
                await self.store.adelete(user_namespace(user_key, "history"), key)

    async def history(self, user_key: str) -> dict[str, HistoryEntry]:
        """Oldest first."""
        found = await self.store.asearch(user_namespace(user_key, "history"), limit=SEARCH_LIMIT)
        entries = {
            item.key: HistoryEntry.model_validate(self.sealer.open(item.value)) for item in found
        }
        return dict(sorted(entries.items()))

    async def forget_history_of(self, user_key: str, item_id: str) -> int:
        """Forgotten text survives nowhere: drop every history entry about the item, and its
        before- and after-states kept for Undo."""
        history = await self.history(user_key)
        doomed = [key for key, entry in history.items() if entry.item_id == item_id]
        for key in doomed:
            await self.store.adelete(user_namespace(user_key, "history"), key)
        for change_set in await self.change_sets(user_key):
            if any(change.item_id == item_id for change in change_set.changes):
                kept = change_set.without(item_id)
                if not kept.changes:
                    await self.drop_change_set(user_key, kept.id)
                    continue
                await self._put(user_key, "changes", kept.id, kept.model_dump(mode="json"))
        return len(doomed)

    async def add_change_set(self, user_key: str, change_set: ChangeSet) -> None:
        """Keep what a learning round changed (for Undo); the oldest beyond MAX_CHANGE_SETS go."""
        await self._put(user_key, "changes", change_set.id, change_set.model_dump(mode="json"))
        kept = await self.change_sets(user_key)
        for old in kept[:-MAX_CHANGE_SETS]:
            await self.drop_change_set(user_key, old.id)

    async def change_sets(self, user_key: str) -> list[ChangeSet]:
        """The person's undoable change sets, oldest first; expired ones are deleted on the way."""
        found = await self.store.asearch(user_namespace(user_key, "changes"), limit=SEARCH_LIMIT)
        sets = [ChangeSet.model_validate(self.sealer.open(item.value)) for item in found]
        for expired in (s for s in sets if s.expired()):
            await self.drop_change_set(user_key, expired.id)
        return sorted((s for s in sets if not s.expired()), key=lambda s: s.at)

    async def drop_change_set(self, user_key: str, change_id: str) -> None:
        await self.store.adelete(user_namespace(user_key, "changes"), change_id)

    async def delete_everything(self, user_key: str) -> dict[str, int]:
        """Delete every row under the user's prefix; returns counts by section."""
        self._memories.pop(user_key, None)
        if self._sizes is not None:
            self._sizes.forget(user_key)
        counts: dict[str, int] = {}
        namespaces = await self.store.alist_namespaces(prefix=user_prefix(user_key), limit=100000)
        for namespace in namespaces:
            if namespace[-1] == KEPT_BY_FORGET_ALL:
                continue
            while True:
                found = await self.store.asearch(namespace, limit=500)
                if not found:
                    break
                for item in found:
                    await self.store.adelete(namespace, item.key)
                counts[namespace[-1]] = counts.get(namespace[-1], 0) + len(found)
        return counts
