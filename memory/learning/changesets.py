"""Change sets: what one round of learning changed, with the before-states an Undo needs.

Only changes the model made on its own are kept (inserts, patches, profile values it set,
removals it made: an outdated fact replaced, duplicates merged, the oldest items dropped to stay
under a cap); a removal the person asked for is an erasure and final, so it has no before-state
here (memory.learning.rules.asks_to_forget tells the two apart). A forget leaves a change set
with no changes (ChangeSet.forgetting): a marker holding no words, so a bare Undo knows the newest
change was final and takes back nothing learned before it. A set whose every change held words
forgotten since (memory.erasure.traces) is left the same way, so its Undo button says so.
Before-states hold remembered words, so they are bounded: kept for UNDO_WINDOW at most, at most
MAX_CHANGE_SETS per person, dropped with the item when it is forgotten, and by forget all.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from memory.commands.history import Change

UNDO_WINDOW = timedelta(days=1)
MAX_CHANGE_SETS = 20

# The name of the memory kind (memory.kinds) the item or profile field belongs to.
Place = str


class ItemChange(BaseModel):
    """One item (or profile field) as it was before and after a change."""

    item_id: str
    place: Place
    change: Change
    summary: str = Field(description="one line a person reads, e.g. 'location: Lisbon'")
    # A collection item: the stored item's JSON (None for an insert); profile: {"value": old}.
    # A removal keeps the whole item here, so Undo can put it back.
    before: dict[str, Any] | None = None
    # What the change left: item data, or {"value": new} for a profile field. An Undo only
    # goes ahead while the item still holds exactly this.
    after: dict[str, Any] | None = None
    # Which profile document a field is in ("dm" or "channel").
    audience: str = "dm"


def new_change_set_id() -> str:
    """A fresh change set id (8 hex characters; it goes into Undo buttons)."""
    return secrets.token_hex(4)


class ChangeSet(BaseModel):
    """One learning round's changes for one person, named by the message it answered."""

    id: str = Field(default_factory=new_change_set_id)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    platform: str
    conversation: str
    message_id: str
    changes: list[ItemChange] = Field(default_factory=list)

    def summary(self, limit: int = 3) -> str:
        """`lives in Lisbon; keeps bees (+2 more)`: what a notice shows."""
        lines = [
            f"removed {c.summary}" if c.change == "removed" else c.summary for c in self.changes
        ]
        shown = "; ".join(lines[:limit])
        return shown + (f" (+{len(lines) - limit} more)" if len(lines) > limit else "")

    @classmethod
    def forgetting(cls) -> ChangeSet:
        """The marker a forget leaves: when it happened, no changes and no words."""
        return cls(platform="", conversation="", message_id="")

    @property
    def final(self) -> bool:
        """A forget's marker (or a set a forget emptied): nothing in it can be undone."""
        return not self.changes

    def expired(self, now: datetime | None = None) -> bool:
        """True once the set is older than UNDO_WINDOW (at `now`, UTC; the clock by default)."""
        return (now or datetime.now(UTC)) - self.at > UNDO_WINDOW

    def without(self, item_id: str) -> ChangeSet:
        """This set with no trace of `item_id` (it was forgotten)."""
        kept = [c for c in self.changes if c.item_id != item_id]
        return self.model_copy(update={"changes": kept})


def fold(changes: list[ItemChange]) -> list[ItemChange]:
    """One change per item: what it was before the first change and after the last.

    A round may change an item twice (learned, then merged by consolidation into another):
    Undo puts back the first before-state, and checks the item still holds the last after-state.
    An item added and removed in the same round is left out (nothing to undo).
    """
    folded: dict[tuple[str, str, str], ItemChange] = {}
    for change in changes:
        key = (change.place, change.item_id, change.audience)
        first = folded.get(key)
        if first is None:
            folded[key] = change
            continue
        before, after = first.before, change.after
        kind: Change = "added" if before is None else "removed" if after is None else "changed"
        folded[key] = change.model_copy(update={"before": before, "after": after, "change": kind})
    return [c for c in folded.values() if c.before is not None or c.after is not None]


@dataclass(frozen=True)
class MemoryChanged:
    """Learning changed someone's memory (adapters show a notice): what changed, and where the
    message it learned from was. `change_set` is None when the only changes were removals the
    person asked for (final: nothing to undo); `forgotten` counts those removals."""

    user_key: str
    platform: str
    conversation: str
    message_id: str
    change_set: ChangeSet | None
    forgotten: int = 0

    def summary(self) -> str:
        """`lives in Lisbon; forgot 1 thing`: one line for the notice."""
        parts = [self.change_set.summary()] if self.change_set else []
        if self.forgotten:
            parts.append(f"forgot {self.forgotten} thing{'s' if self.forgotten > 1 else ''}")
        return "; ".join(p for p in parts if p)

    @property
    def verb(self) -> str:
        """How a notice starts: "Remembered" for what was learned, "Memory updated" when
        something was also removed (or only removals the person asked for happened)."""
        if not self.undoable or self.change_set is None:
            return "Memory updated"
        removed = any(c.change == "removed" for c in self.change_set.changes)
        return "Memory updated" if removed else "Remembered"

    @property
    def undoable(self) -> bool:
        """True when the notice offers Undo: the round made a change that can be taken back."""
        return self.change_set is not None and bool(self.change_set.changes)


ChangeListener = Callable[[MemoryChanged], Awaitable[None]]
