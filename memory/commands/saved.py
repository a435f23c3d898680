"""What a stretch of conversation changed, in one line: `Saved 2 new memories and removed 1.`"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from memory.commands.history import HistoryEntry
from memory.ids import field_id
from memory.storage.repository import UserMemory

CORRECTION = "correction"


def _remembered(memory: UserMemory) -> dict[str, Any]:
    """Every item and profile field with a value, by the id a person sees, with its data."""
    found: dict[str, Any] = {key: item.data for key, item in memory.items().items()}
    for kind in memory.kinds.profiles:
        for name, value in memory.merged_profile(kind.name).items():
            found[field_id(name)] = value
    return found


def saved_line(before: UserMemory, after: UserMemory, history: Iterable[HistoryEntry] = ()) -> str:
    """Compare a person's memory before and after (e.g. a console session): new items and
    profile fields, changed ones, removed ones, and those whose latest change in `history`
    (the entries written in between, oldest first) was a `/memory correct`. Returns a
    sentence for the person, e.g. `Saved 1 new memory, corrected 1 and removed 1.`"""
    old, new = _remembered(before), _remembered(after)
    added = set(new) - set(old)
    changed = {k for k in set(new) & set(old) if new[k] != old[k]}
    removed = set(old) - set(new)
    latest = {entry.item_id: entry.cause for entry in history}
    corrected = {k for k in added | changed if latest.get(k) == CORRECTION}
    added, changed = added - corrected, changed - corrected
    parts = []
    if added:
        parts.append(f"saved {len(added)} new {'memory' if len(added) == 1 else 'memories'}")
    if changed:
        parts.append(f"updated {len(changed)}")
    if corrected:
        parts.append(f"corrected {len(corrected)}")
    if removed:
        noun = f" {'memory' if len(removed) == 1 else 'memories'}" if not parts else ""
        parts.append(f"removed {len(removed)}{noun}")
    if not parts:
        return "Nothing new to remember."
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return text[0].upper() + text[1:] + "."
