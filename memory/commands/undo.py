"""Undo: take back what one round of learning changed, only while nothing newer touched it.

Runs under the user lock, in the owner's own namespaces only (another person's change id is
simply not found there). Reverts inserts (deleted), patches (the before-state put back),
profile values (the old value put back) and the model's own removals (the item put back); a
removal the person asked for is never undone (it is in no change set).
"""

from __future__ import annotations

from typing import Any

from memory.commands.history import Change, HistoryEntry
from memory.commands.results import UndoResult
from memory.ids import field_name
from memory.learning.changesets import ChangeSet, ItemChange
from memory.schemas import StoredItem, field_change_text, profile_text
from memory.storage.locks import UserLocks
from memory.storage.repository import MemoryRepository, UserMemory

UNDO_CAUSE = "undo"


def _current(memory: UserMemory, change: ItemChange) -> dict[str, Any] | None:
    """What the item holds now, in the shape `ItemChange.after` records."""
    kind = memory.kinds.get(change.place)
    if kind is not None and kind.is_profile:
        profile = memory.of(kind.name).get(change.audience)
        value = profile.data.get(change.item_id.replace("-", "_")) if profile else None
        return {"value": value} if value not in (None, "", []) else None
    item = memory.of(change.place).get(change.item_id)
    return item.data if item is not None else None


def conflicts(target: ChangeSet, newer: list[ChangeSet], memory: UserMemory) -> list[str]:
    """The items of `target` that something after it changed (a newer change set, a correction,
    a forget): an Undo would overwrite that, so it does not go ahead."""
    touched = {c.item_id for later in newer for c in later.changes}
    return [
        c.summary for c in target.changes if c.item_id in touched or _current(memory, c) != c.after
    ]


async def undo(
    repository: MemoryRepository,
    locks: UserLocks,
    user_key: str,
    change_id: str | None,
    max_history: int,
) -> UndoResult:
    """Undo the change set `change_id` (or the latest one) of `user_key`.

    Returns an UndoResult saying what was reverted, or why nothing was (no such change set,
    it expired, something newer touched the same items, or the newest change was a forget).
    Never touches another user.
    """
    async with locks.hold(user_key):
        sets = await repository.change_sets(user_key)
        if change_id is None:
            target = sets[-1] if sets else None
        else:
            target = next((s for s in sets if s.id == change_id), None)
        if target is not None and target.final and change_id is None:
            # The newest change was a forget: final, and nothing older is "the latest".
            return UndoResult(reverted=[], reason="forgotten")
        if target is not None and target.final:
            # Its changes held words forgotten since (memory.erasure.traces): final too.
            return UndoResult(reverted=[], reason="forgotten since")
        if target is None:
            entries = (await repository.history(user_key)).values()
            if change_id is not None and any(e.undoes == change_id for e in entries):
                return UndoResult(reverted=[], reason="undone")
            return UndoResult(reverted=[], reason="gone")
        newer = sets[sets.index(target) + 1 :]
        memory = await repository.load(user_key)
        blocked = conflicts(target, newer, memory)
        if blocked:
            return UndoResult(reverted=[], reason="changed", blocked=blocked)
        history: list[HistoryEntry] = []
        for change in target.changes:
            await _revert(repository, user_key, memory, change)
            history.append(
                HistoryEntry(
                    change=_reverse(change),
                    item_id=change.item_id,
                    kind=_item_kind(memory, change.place),
                    text=brought_back(change),
                    cause=UNDO_CAUSE,
                    conversation=target.conversation,
                    undoes=target.id,
                )
            )
        await repository.drop_change_set(user_key, target.id)
        await repository.add_history(user_key, history, max_history)
        return UndoResult(
            reverted=[c.summary for c in target.changes],
            reason="done",
            done=[undone_text(c) for c in target.changes],
        )


async def _revert(
    repository: MemoryRepository, user_key: str, memory: UserMemory, change: ItemChange
) -> None:
    kind = memory.kinds.get(change.place)
    if kind is not None and kind.is_profile:
        profile = memory.of(kind.name).get(change.audience)
        if profile is None:
            return
        name = change.item_id.replace("-", "_")
        old = (change.before or {}).get("value")
        data = {**profile.data, name: old if old is not None else _empty(profile.data.get(name))}
        sources = dict(profile.field_sources)
        if old is None:
            sources.pop(name, None)
        updated = profile.model_copy(update={"data": data, "field_sources": sources})
        await repository.put(user_key, kind.name, change.audience, updated)
        return
    if change.before is None:
        await repository.delete(user_key, change.place, change.item_id)
        return
    await repository.put(
        user_key, change.place, change.item_id, StoredItem.model_validate(change.before)
    )


def undone_text(change: ItemChange) -> str:
    """What undoing `change` did, as the Undo answer says it: `forgot I keep bees` (an insert
    taken back), `restored I keep bees` (a removal put back), `changed back I keep wasps ->
    I keep bees` or `changed back location: Lisbon -> Porto` (a change reverted)."""
    if change.before is None:
        return f"forgot {change.summary}"
    if change.after is None:
        return f"restored {change.summary}"
    return f"changed back {brought_back(change)}"


def brought_back(change: ItemChange) -> str:
    """What undoing `change` brought back, as history shows it: `restored: I keep bees` (a
    removal put back), `I keep wasps -> I keep bees` or `location: Lisbon -> Porto` (a change
    reverted), `I keep bees (undone)` (an insert taken back: nothing came back)."""
    before = change.before
    if before is None:
        return f"{change.summary} (undone)"
    if "data" not in before:  # a profile field: {"value": ...}
        name = field_name(change.item_id)
        if change.after is None:
            return f"restored: {profile_text({name: before.get('value')})}"
        return field_change_text(name, change.after.get("value"), before.get("value"))
    restored = StoredItem.model_validate(before).text()
    return f"restored: {restored}" if change.after is None else f"{change.summary} -> {restored}"


def _item_kind(memory: UserMemory, place: str) -> str:
    """What one item of the kind named `place` is called (the name, for an undeclared kind)."""
    kind = memory.kinds.get(place)
    return kind.item if kind is not None else place


def _reverse(change: ItemChange) -> Change:
    """What undoing `change` does to its item: an insert goes, a removal comes back."""
    if change.before is None:
        return "removed"
    return "added" if change.after is None else "changed"


def _empty(value: Any) -> Any:
    return [] if isinstance(value, list) else None
