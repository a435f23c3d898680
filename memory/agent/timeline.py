"""When things were said and when they happen: dated transcripts, dated recall, earlier values.

Learning shows the model the date of every message, so "next Friday" said on 2026-03-02 can
be stored as 2026-03-06 (the schemas ask for YYYY-MM-DD). Recall shows, for each item, the
date it was said, the date of the event when there is one, and what an updated item said
before, so "how long ago", "what did I say first" and "what changed" can be answered.
"""

from __future__ import annotations

from datetime import UTC, datetime

from memory.schemas import Earlier, StoredItem

# Enough to say what changed; older values go, so an item cannot grow without bound.
MAX_EARLIER = 3
# Recall shows only the value an item replaced last, cut to this, so the prompt stays bounded.
EARLIER_SHOWN_CHARS = 120
CORRECTION = "correction"
CONSOLIDATION = "consolidation"


def utc(at: datetime) -> datetime:
    """`at` in UTC; a naive datetime is taken to be UTC already (not local time)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def said_header(at: datetime) -> str:
    """The line put before messages said at `at` in a learning transcript."""
    return f"[{utc(at):%a %Y-%m-%d %H:%M} UTC]"


def _what(item: StoredItem) -> str:
    """The part of an item a later message can change (a todo's status is not a change of mind)."""
    kind = item.described()
    return kind.line(item.data) if kind is not None else item.text()


def earlier_values(current: StoredItem, updated: StoredItem, cause: str) -> list[Earlier]:
    """`updated.previous`, newest first and at most MAX_EARLIER (3): the current value
    joins it when a message changed what it says.

    A correction says the old value was wrong, and consolidation is housekeeping: neither
    keeps the value it replaces.
    """
    if cause in (CORRECTION, CONSOLIDATION) or _what(current) == _what(updated):
        return list(current.previous)
    before = Earlier(text=_what(current), said_at=current.provenance.said)
    return [before, *current.previous][:MAX_EARLIER]


def dated(item: StoredItem) -> str:
    """One recall line: the item, when its event is, when it was said and what it said before.

    `Dentist (on 2026-03-06) [said 2026-03-02; before: "...", said 2026-02-01]`: dates in
    UTC, the earlier value cut to EARLIER_SHOWN_CHARS (120) characters.
    """
    text = item.text()
    kind = item.described()
    when = item.data.get(kind.when_field) if kind is not None and kind.when_field else None
    if when:
        text += f" (on {when})"
    notes = [f"said {utc(item.provenance.said):%Y-%m-%d}"]
    if item.previous:
        last = item.previous[0]
        shown = last.text
        if len(shown) > EARLIER_SHOWN_CHARS:
            shown = shown[: EARLIER_SHOWN_CHARS - 3] + "..."
        notes.append(f'before: "{shown}", said {utc(last.said_at):%Y-%m-%d}')
    return f"{text} [{'; '.join(notes)}]"
