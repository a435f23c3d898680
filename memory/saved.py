"""What a stretch of conversation saved, in one line: `Saved 2 new memories.`"""

from __future__ import annotations

from memory.repository import UserMemory


def saved_line(before: UserMemory, after: UserMemory) -> str:
    """Compare a person's memory before and after (e.g. a console session): new items and
    profile fields, and changed ones. Returns a sentence for the person."""
    old_items, new_items = before.items(), after.items()
    old_profile: dict[str, object] = {}
    new_profile: dict[str, object] = {}
    for kind in after.kinds.profiles:
        old_profile.update(before.merged_profile(kind.name))
        new_profile.update(after.merged_profile(kind.name))
    added = len(set(new_items) - set(old_items)) + len(set(new_profile) - set(old_profile))
    changed = sum(
        1 for k in set(new_items) & set(old_items) if new_items[k].data != old_items[k].data
    ) + sum(1 for k in set(new_profile) & set(old_profile) if new_profile[k] != old_profile[k])
    if not added and not changed:
        return "Nothing new to remember."
    parts = []
    if added:
        parts.append(f"Saved {added} new {'memory' if added == 1 else 'memories'}")
    if changed:
        parts.append(f"{'updated' if added else 'Updated'} {changed}")
    return " and ".join(parts) + "."
