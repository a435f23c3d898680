"""The store repository: every read and write of a user's memory goes through here.

Values pass through a Sealer, so with an encryption key nothing readable reaches the store.
With a KeyRing, a person's rows are sealed with their own data key (destroyed by forget all);
the erasure log, which forget all keeps, is sealed with the master key.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cachetools import LRUCache
from langgraph.store.base import BaseStore, GetOp, Item, PutOp, SearchOp

from memory.builtin_kinds import BUILTIN
from memory.commands.history import HistoryEntry, history_key
from memory.erasure.log import ErasureEvent, ErasureLog
from memory.erasure.repeats import repeats_of
from memory.errors import ConfigurationError
from memory.identity import Audience
from memory.kinds import KindRegistry, MemoryKind
from memory.learning.changesets import MAX_CHANGE_SETS, ChangeSet
from memory.learning.pending import PendingMessage
from memory.schemas import StoredItem, upgrade
from memory.stats import MemorySizes
from memory.storage.evolution import evolve
from memory.storage.namespaces import ROOT, Section, is_memory_section, user_namespace, user_prefix
from memory.storage.sealing import SEALED, KeyGone, KeyRing, PlainSealer, Sealer, person_owner

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
    """Everything recall needs for one user, read in one store round trip.

    `sections` holds each declared kind's items by key: a profile kind's documents by audience
    ("channel", "dm"), a collection's items by id.
    """

    sections: dict[str, dict[str, StoredItem]] = field(default_factory=dict)
    paused: bool = False
    # The erasure log's token when this was read: work started now records it.
    erasure_token: str | None = None
    kinds: KindRegistry = BUILTIN

    def visible_to(self, audience: Audience) -> UserMemory:
        """Only what may be used in this audience: DM-learned memory stays in DMs."""
        if audience == "dm":
            return self
        kept = {
            name: {k: v for k, v in items.items() if v.audience == "channel"}
            for name, items in self.sections.items()
        }
        return UserMemory(kept, self.paused, self.erasure_token, self.kinds)

    def of(self, kind: str) -> dict[str, StoredItem]:
        """The items of one kind (a profile kind's documents by audience)."""
        return self.sections.get(kind, {})

    @property
    def profiles(self) -> dict[str, StoredItem]:
        """The built-in profile's documents by audience."""
        return self.of("profile")

    @property
    def facts(self) -> dict[str, StoredItem]:
        """The built-in facts (a shortcut for `of("facts")`)."""
        return self.of("facts")

    @property
    def todos(self) -> dict[str, StoredItem]:
        """The built-in todos (a shortcut for `of("todos")`)."""
        return self.of("todos")

    def items(self) -> dict[str, StoredItem]:
        """Every collection item, of every kind, by id."""
        found: dict[str, StoredItem] = {}
        for kind in self.kinds.collections:
            found.update(self.of(kind.name))
        return found

    def merged_profile(self, kind: str = "profile") -> dict[str, Any]:
        """A profile kind's channel document overlaid with its DM one (when visible)."""
        merged: dict[str, Any] = {}
        for key in PROFILE_KEYS:
            if key in self.of(kind):
                merged.update({k: v for k, v in self.of(kind)[key].data.items() if v})
        return merged

    def item(self, key: str) -> StoredItem | None:
        """The collection item stored under `key` (an item id), of whatever kind, or None."""
        for kind in self.kinds.collections:
            if key in self.of(kind.name):
                return self.of(kind.name)[key]
        return None

    def kind_of(self, key: str) -> MemoryKind | None:
        """The collection kind the item `key` belongs to."""
        return next((k for k in self.kinds.collections if key in self.of(k.name)), None)


class MemoryRepository:
    """Reads and writes one user's memory; every method takes the user key explicitly."""

    def __init__(
        self,
        store: BaseStore,
        sealer: Sealer | None = None,
        kinds: KindRegistry | None = None,
        sizes: MemorySizes | None = None,
    ) -> None:
        """`kinds`: what is remembered (the built-in set by default); `sizes`, when given, is
        told each person's memory size on every full read."""
        self.store = store
        self.kinds = kinds or BUILTIN
        self.sealer: Sealer = sealer or PlainSealer()
        self.keys = sealer if isinstance(sealer, KeyRing) else None
        if self.keys is not None and self.keys.store is None:
            self.keys.attach(store)
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

    def _items(self, found: Sequence[Item] | None) -> dict[str, StoredItem]:
        items = {}
        for item in found or []:
            try:
                items[item.key] = self._parse(item)
            except KeyGone:
                continue  # written as its owner was forgotten: forgotten with them
        return items

    async def _ready(self, found: Any) -> None:
        """Read the data keys that sealed these items (an Item, a list, or None, nested)."""
        if self.keys is None:
            return
        values: list[dict[str, Any]] = []

        def collect(entry: Any) -> None:
            if isinstance(entry, Item):
                values.append(entry.value)
            elif isinstance(entry, list):
                for inner in entry:
                    collect(inner)

        collect(found)
        await self.keys.ready(values)

    def _open_all(self, found: Sequence[Item]) -> list[tuple[Item, dict[str, Any]]]:
        """Items with their opened values; those sealed with a destroyed key are left out."""
        opened = []
        for item in found:
            try:
                opened.append((item, self.sealer.open(item.value)))
            except KeyGone:
                continue
        return opened

    async def _search(self, user_key: str, section: Section) -> list[tuple[Item, dict[str, Any]]]:
        found = await self.store.asearch(user_namespace(user_key, section), limit=SEARCH_LIMIT)
        await self._ready(found)
        return self._open_all(found)

    def _parse(self, item: Item) -> StoredItem:
        marker = (item.namespace, item.key)
        cached = self._parsed.get(marker)
        if cached is not None and cached[0] == item.value:
            return cached[1]
        section = item.namespace[-1] if item.namespace else ""
        kind = self.kinds.get(section)
        parsed = evolve(upgrade(self.sealer.open(item.value)), kind).read_as(kind)
        self._parsed[marker] = (item.value, parsed)
        return parsed

    async def _put(self, user_key: str, section: Section, key: str, value: dict[str, Any]) -> None:
        namespace = user_namespace(user_key, section)
        if self.keys is not None and section != KEPT_BY_FORGET_ALL:
            ref = await self.keys.data_key(person_owner(user_key))
            sealed = self.keys.seal_with(ref, value)
        else:
            if self.keys is not None:
                # Sealed with the master key itself: a process on settings rotate-key replaced
                # must not write it, or its person could not be read on the current ones.
                await self.keys.check_may_wrap()
            sealed = self.sealer.seal(value)
        await self.store.aput(namespace, key, sealed, index=False)

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
        kinds = [
            SearchOp(
                user_namespace(user_key, kind.name),
                limit=len(PROFILE_KEYS) if kind.is_profile else SEARCH_LIMIT,
            )
            for kind in self.kinds
        ]
        results = await self.store.abatch(
            [
                GetOp(settings, REVISION_KEY),
                GetOp(settings, LEARNING_KEY),
                GetOp(user_namespace(user_key, "erasure"), ERASURE_KEY),
                *kinds,
            ]
        )
        await self._ready(results)
        revision, learning, erasure, *found = results
        if self._sizes is not None:
            self._sizes.record(user_key, [row for rows in found for row in rows or []])  # type: ignore[union-attr,misc]
        paused = self._paused(learning)  # type: ignore[arg-type]
        memory = UserMemory(
            sections={
                kind.name: self._items(items)  # type: ignore[arg-type]
                for kind, items in zip(self.kinds, found, strict=True)
            },
            paused=paused,
            erasure_token=self._erasure_log(erasure).token,  # type: ignore[arg-type]
            kinds=self.kinds,
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
        """Rows of this user were written around the repository (memory.accounts.people moves a
        person's rows): every process reloads the user's memory."""
        await self._changed(user_key)

    async def put(self, user_key: str, section: Section, key: str, item: StoredItem) -> None:
        """Store `item` under `key` in `section` (a kind's name), stamped with the time and, when it
        fits its kind, the kind's schema version; every process reloads the person's memory after.
        """
        item.updated_at = datetime.now(UTC)
        kind = self.kinds.get(section)
        if kind is not None and item.fit != "invalid":
            item.kind_version = kind.version
        await self._put(user_key, section, key, item.model_dump(mode="json"))
        await self._changed(user_key)

    async def delete(self, user_key: str, section: Section, key: str) -> None:
        """Delete the row `key` of `section`; every process reloads the person's memory after."""
        await self.store.adelete(user_namespace(user_key, section), key)
        await self._changed(user_key)

    def _erasure_log(self, found: Item | None) -> ErasureLog:
        if found is None:
            return ErasureLog()
        return ErasureLog.model_validate(self.sealer.open(found.value))

    async def erasure_log(self, user_key: str) -> ErasureLog:
        """What was forgotten, oldest first (see memory.erasure.log)."""
        found = await self.store.aget(user_namespace(user_key, "erasure"), ERASURE_KEY)
        await self._ready(found)
        return self._erasure_log(found)

    async def record_erasure(self, user_key: str, event: ErasureEvent) -> None:
        """Append an erasure event; call under the user lock, before deleting anything."""
        log = (await self.erasure_log(user_key)).appended(event)
        await self._put(user_key, "erasure", ERASURE_KEY, log.model_dump(mode="json"))
        await self._changed(user_key)

    async def check_readable(
        self, sample: int = READABLE_SAMPLE, pages: int = 10, *, wrapped: bool = True
    ) -> None:
        """Open stored values with the configured key (at start, before anyone is answered):
        with a KeyRing and `wrapped`, every wrapped data key (KeyRing.check_wrapped), then
        up to `sample` sealed values under the users' prefix, reading at most `pages` pages
        of `sample` rows to find them (plain rows, such as revision marks, need no key and do
        not count, nor do rows of forgotten people). Raises ConfigurationError naming
        MEMORY_ENCRYPTION_KEY when values are sealed and there is no key, or a key that
        did not seal them."""
        opened, offset = 0, 0
        try:
            if self.keys is not None and wrapped:
                await self.keys.check_wrapped()
            for _ in range(pages):
                found = await self.store.asearch((ROOT,), limit=sample, offset=offset)
                await self._ready(found)
                for item in found:
                    if SEALED not in item.value:
                        continue
                    try:
                        self.sealer.open(item.value)
                    except KeyGone:
                        continue  # its owner was forgotten: unreadable on purpose
                    opened += 1
                if opened >= sample or len(found) < sample:
                    return
                offset += len(found)
        except Exception as exc:
            raise _unreadable(exc) from None

    async def is_paused(self, user_key: str) -> bool:
        """Whether the person paused learning (/memory pause)."""
        found = await self.store.aget(user_namespace(user_key, "settings"), LEARNING_KEY)
        await self._ready(found)
        return self._paused(found)

    def _paused(self, found: Item | None) -> bool:
        opened = self._open_all([found]) if found is not None else []
        return bool(opened and opened[0][1].get("paused"))

    async def set_paused(self, user_key: str, paused: bool) -> None:
        """Pause or resume learning for the person (kept in their settings section)."""
        if paused:
            await self._put(user_key, "settings", LEARNING_KEY, {"paused": True})
        else:
            await self.store.adelete(user_namespace(user_key, "settings"), LEARNING_KEY)
        await self._changed(user_key)

    async def add_pending(self, user_key: str, key: str, pending: PendingMessage) -> None:
        """Keep `pending` under `key` until learning consumes it (sealed like any other row)."""
        await self._put(user_key, "pending", key, pending.model_dump(mode="json"))

    async def list_pending(self, user_key: str) -> dict[str, PendingMessage]:
        """The person's pending messages by key, oldest first (by when they were said)."""
        found = await self._search(user_key, "pending")
        pending = {item.key: PendingMessage.model_validate(value) for item, value in found}
        return dict(sorted(pending.items(), key=lambda kv: kv[1].sent_at))

    async def delete_pending(self, user_key: str, keys: list[str]) -> None:
        """Delete these pending messages, in one round trip."""
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
        """Every person (user key) with pending messages, across all processes, sorted."""
        return await self._users_with("pending")

    async def users_with_any(self, sections: set[str]) -> list[str]:
        """Users with rows in any of these sections (e.g. the kinds that have a retention)."""
        namespaces = await self.store.alist_namespaces(prefix=("users",), max_depth=3, limit=100000)
        return sorted({ns[1] for ns in namespaces if len(ns) == 3 and ns[2] in sections})

    async def undeclared(self, user_key: str) -> dict[str, dict[str, StoredItem]]:
        """Items of kinds the current configuration no longer declares, by section, as stored
        (export shows them; forget all erases them with everything else)."""
        namespaces = await self.store.alist_namespaces(prefix=user_prefix(user_key), limit=100000)
        found: dict[str, dict[str, StoredItem]] = {}
        for namespace in namespaces:
            section = namespace[-1]
            if len(namespace) != 3 or not is_memory_section(section) or section in self.kinds.names:
                continue
            rows = await self.store.asearch(namespace, limit=SEARCH_LIMIT)
            found[section] = self._items(rows)
        return found

    async def users_with_changes(self) -> list[str]:
        """Every person (user key) with undoable change sets kept, sorted."""
        return await self._users_with("changes")

    async def _users_with(self, section: Section) -> list[str]:
        namespaces = await self.store.alist_namespaces(prefix=("users",), max_depth=3, limit=100000)
        return sorted({ns[1] for ns in namespaces if len(ns) == 3 and ns[2] == section})

    async def note_conversation(self, user_key: str, conversation: str, audience: str) -> None:
        """Remember that the person spoke in `conversation` (its key) with this `audience` ("dm" or
        "channel"), so forgetting can reach every conversation they were in."""
        await self._put(user_key, "conversations", conversation, {"audience": audience})

    async def conversations(self, user_key: str) -> dict[str, str]:
        """The conversations the person spoke in: conversation key -> "dm" or "channel"."""
        found = await self._search(user_key, "conversations")
        return {item.key: str(value.get("audience", "channel")) for item, value in found}

    async def add_history(self, user_key: str, entries: list[HistoryEntry], cap: int) -> None:
        """Append `entries` to the person's history, then drop the oldest so at most `cap` entries
        stay."""
        for entry in entries:
            await self._put(
                user_key, "history", history_key(entry.at), entry.model_dump(mode="json")
            )
        if entries:
            history = await self.history(user_key)
            for key in list(history)[:-cap] if len(history) > cap else []:
                await self.store.adelete(user_namespace(user_key, "history"), key)

    async def history(self, user_key: str) -> dict[str, HistoryEntry]:
        """Every change history entry of `user_key`, keyed by its sortable key, oldest first."""
        found = await self._search(user_key, "history")
        entries = {item.key: HistoryEntry.model_validate(value) for item, value in found}
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

    async def drop_traces(
        self, user_key: str, entries: Iterable[str], changes: Iterable[tuple[str, str]]
    ) -> None:
        """Drop history entries (by key) and changes kept for Undo (as (change set id, item
        id)) that hold forgotten words, so no Undo can bring them back. A change set left with
        no change stays as a marker holding no words (ChangeSet.final), so its Undo button can
        say the memory was forgotten since."""
        for key in sorted(entries):
            await self.store.adelete(user_namespace(user_key, "history"), key)
        doomed: dict[str, set[str]] = {}
        for change_id, item_id in changes:
            doomed.setdefault(change_id, set()).add(item_id)
        for change_set in await self.change_sets(user_key):
            if change_set.id not in doomed:
                continue
            kept = [c for c in change_set.changes if c.item_id not in doomed[change_set.id]]
            trimmed = change_set.model_copy(update={"changes": kept})
            await self._put(user_key, "changes", trimmed.id, trimmed.model_dump(mode="json"))

    async def forget_message_traces(
        self, user_key: str, conversation: str, message_ids: set[str]
    ) -> int:
        """A message was deleted on its platform: drop what history and Undo kept of its words
        (call under the user lock). Returns how many history entries went.

        Goes: the history entries it caused, the Undo entries that took those changes back
        (they name what came back and what went), and the changes it made from the change sets
        (their after-states hold its words); a change set named by it whose changes no history
        entry ties to a message any more (older entries, or entries past the history cap) goes
        whole. What was learned from it stays in memory until it is forgotten.
        """

        def said_there(entry: HistoryEntry) -> bool:
            # Entries from versions that kept no conversation are matched by message id alone
            # (ids are unique per platform conversation and across console sessions).
            return entry.conversation in (None, conversation) and entry.cause in message_ids

        history = await self.history(user_key)
        caused = {key: e for key, e in history.items() if said_there(e)}
        # (change set, item) pairs of the changes the message made.
        made = {(e.change_set, e.item_id) for e in caused.values() if e.change_set}
        doomed = set(caused) | {
            key for key, e in history.items() if e.undoes and (e.undoes, e.item_id) in made
        }
        for key in sorted(doomed):
            await self.store.adelete(user_namespace(user_key, "history"), key)
        tied = {e.change_set for key, e in history.items() if e.change_set and key not in doomed}
        for change_set in await self.change_sets(user_key):
            if change_set.final:
                continue  # a forget's marker: no words, and still the newest change
            named = change_set.conversation == conversation and change_set.message_id in message_ids
            kept = [c for c in change_set.changes if (change_set.id, c.item_id) not in made]
            if (named and change_set.id not in tied) or not kept:
                await self.drop_change_set(user_key, change_set.id)
            elif len(kept) < len(change_set.changes):
                trimmed = change_set.model_copy(update={"changes": kept})
                await self._put(user_key, "changes", trimmed.id, trimmed.model_dump(mode="json"))
        return len(doomed)

    async def add_change_set(self, user_key: str, change_set: ChangeSet) -> None:
        """Keep what a learning round changed (for Undo); the oldest beyond MAX_CHANGE_SETS go."""
        await self._put(user_key, "changes", change_set.id, change_set.model_dump(mode="json"))
        kept = await self.change_sets(user_key)
        for old in kept[:-MAX_CHANGE_SETS]:
            await self.drop_change_set(user_key, old.id)

    async def mark_forgotten(self, user_key: str) -> None:
        """Something was forgotten (call under the user lock): the newest change is now final,
        so a bare Undo takes back nothing learned before it (the marker holds no words)."""
        await self.add_change_set(user_key, ChangeSet.forgetting())

    async def change_sets(self, user_key: str) -> list[ChangeSet]:
        """The person's undoable change sets, oldest first; expired ones are deleted on the way."""
        found = await self._search(user_key, "changes")
        sets = [ChangeSet.model_validate(value) for _, value in found]
        for expired in (s for s in sets if s.expired()):
            await self.drop_change_set(user_key, expired.id)
        return sorted((s for s in sets if not s.expired()), key=lambda s: s.at)

    async def drop_change_set(self, user_key: str, change_id: str) -> None:
        """Delete one change set (its before-states with it), by id."""
        await self.store.adelete(user_namespace(user_key, "changes"), change_id)

    async def delete_everything(self, user_key: str) -> dict[str, int]:
        """Delete every row under the user's prefix (the erasure log stays) and destroy the
        user's data keys, so copies of those rows elsewhere open no more; returns counts by
        section."""
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
        if self.keys is not None:
            await self.keys.shred(person_owner(user_key))
        return counts


def _unreadable(exc: Exception) -> ConfigurationError:
    """The start-up refusal for memory the configured key cannot open."""
    return ConfigurationError(
        "Stored memory is encrypted and cannot be read with the current settings: "
        "set MEMORY_ENCRYPTION_KEY to the key it was written with (while rotating, "
        f"put older keys in MEMORY_ENCRYPTION_OLD_KEYS). ({exc})"
    )
