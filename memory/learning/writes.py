"""One write of learned memory: its report, where what was learned came from, and the
profile write (per-field sources and history, removed fields handed back to be erased)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from memory.commands.history import Change, HistoryEntry
from memory.identity import Audience
from memory.ids import field_id
from memory.kinds import MemoryKind
from memory.learning.changesets import ItemChange
from memory.learning.pending import PendingMessage
from memory.schemas import (
    Kind,
    Provenance,
    SourceRef,
    StoredItem,
    field_change_text,
    merge_sources,
    profile_text,
)
from memory.storage.repository import MemoryRepository, UserMemory

CONSOLIDATION = "consolidation"


@dataclass
class WriteReport:
    """What one write of an extraction's changes did: the history entries it recorded, the changes
    Undo can take back (with before-states), and how many items were erased because the person
    asked."""

    history: list[HistoryEntry] = field(default_factory=list)
    # What an Undo can take back, with before-states; removals the person asked for are not here
    # (they are erased, and counted in `forgotten`).
    changes: list[ItemChange] = field(default_factory=list)
    forgotten: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything at all was written (any history entry)."""
        return bool(self.history)


async def write_profile(
    repository: MemoryRepository,
    user_key: str,
    memory: UserMemory,
    kind: MemoryKind,
    data: dict[str, Any],
    where: Provenance,
    sources_for: Callable[[str], list[SourceRef]],
    note: Callable[[Change, str, Kind, str, str], None],
    report: WriteReport,
    erase_removed: bool = True,
) -> dict[str, tuple[list[SourceRef], tuple[str, ...]]]:
    """Store the patched document of the profile kind `kind`, with per-field sources and one
    history entry per field.

    With `erase_removed` (the person asked to forget, or corrected it), returns the fields that
    were removed, with their sources and former values, so no copy of them is kept. Without it
    (the model dropped a field on its own), a removed field is a change Undo can take back, and
    nothing is returned.
    """
    before = memory.of(kind.name).get(where.audience)
    old = before.data if before else {}
    field_sources = dict(before.field_sources) if before else {}
    erased: dict[str, tuple[list[SourceRef], tuple[str, ...]]] = {}
    for name in sorted(set(old) | set(data)):
        was, now = old.get(name), data.get(name)
        if was == now or (not was and not now):
            continue
        if not now and before is not None and erase_removed:
            erased[name] = (field_sources.pop(name, []), before.remembered_texts(name))
            note("removed", field_id(name), kind.item, "(forgotten)", "")
            continue
        if not now:
            field_sources.pop(name, None)
            gone = profile_text({name: was})
            note("removed", field_id(name), "profile", gone, "")
            report.changes.append(
                ItemChange(
                    item_id=field_id(name),
                    place="profile",
                    change="removed",
                    summary=gone,
                    before={"value": was},
                    audience=where.audience,
                )
            )
            continue
        said = sources_for(profile_text({name: now}))
        field_sources[name] = merge_sources(field_sources.get(name, []), said)
        change: Change = "added" if not was else "changed"
        came = profile_text({name: now})
        note(change, field_id(name), kind.item, field_change_text(name, was, now), came)
        report.changes.append(
            ItemChange(
                item_id=field_id(name),
                place=kind.name,
                change=change,
                summary=came,
                before={"value": was} if was else None,
                after={"value": now},
                audience=where.audience,
            )
        )
    item = StoredItem(
        kind=kind.item, data=data, provenance=where, field_sources=field_sources
    ).read_as(kind)
    await repository.put(user_key, kind.name, where.audience, item)
    return erased


def provenance(message: PendingMessage) -> Provenance:
    """Where and when a pending message was said, as a memory keeps it."""
    return Provenance(
        platform=message.platform,
        conversation=message.conversation,
        message_id=message.message_id,
        permalink=message.permalink,
        audience=message.audience,
        conversation_name=message.conversation_name,
        said_at=message.sent_at,
    )


def source_ref(message: PendingMessage) -> SourceRef:
    """The message a memory came from, to find it again when the memory is forgotten."""
    return SourceRef(conversation=message.conversation, message_id=message.message_id)


def last_source(item: StoredItem) -> list[SourceRef]:
    """The message an item was last learned from (older items know only that one)."""
    where = item.provenance
    if not where.message_id or where.message_id == CONSOLIDATION:
        return []
    return [SourceRef(conversation=where.conversation, message_id=where.message_id)]


def consolidation(audience: Audience) -> Provenance:
    """The provenance of housekeeping (merging items to stay under a cap): no message."""
    return Provenance(
        platform="memory",
        conversation="consolidation",
        message_id=CONSOLIDATION,
        audience=audience,
    )
