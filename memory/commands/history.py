"""The per-user change history behind `/memory history`: what changed, when, and why."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

Change = Literal["added", "changed", "removed"]

# History causes that name no message.
NOT_A_MESSAGE = frozenset({"correction", "consolidation", "undo", "message"})


class HistoryEntry(BaseModel):
    """One change to one item, as `/memory history` lists it and export includes it: `change`
    (added, changed, removed), the item's id and kind, `text` (what it said after the change,
    or "(forgotten)" once erased), `cause` (a message id, or one of NOT_A_MESSAGE) and `at`
    (UTC)."""

    change: Change
    item_id: str
    kind: str
    text: str
    cause: str = Field(description="what caused it: a message id, 'correction', 'consolidation'")
    # The conversation of the message named by `cause` (None in entries from older versions).
    conversation: str | None = None
    permalink: str | None = None
    # The change set (memory.learning.changesets) of the learning round that made this change, and
    # for
    # an Undo the change set it took back: what a platform delete of the message reaches, and
    # how `/memory why` tells which message the item's current state came from.
    change_set: str | None = None
    undoes: str | None = None
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def as_text(self) -> str:
        """`2026-11-30 05:43 added [k3x9p] I keep bees (D1/1700000000.000001)`: one line, UTC."""
        return f"{self.at:%Y-%m-%d %H:%M} {self.change} [{self.item_id}] {self.text} ({self.cause})"


def history_key(at: datetime) -> str:
    """Sortable by time; the random tail keeps two entries in one microsecond apart."""
    return f"{at:%Y%m%d%H%M%S%f}-{secrets.token_hex(3)}"
