"""Erasure markers: a per-person log of what was forgotten, which every write path checks.

Forget (one item) and forget all each append an event with a fresh token. Work that began
before an event (a reply in flight, a summary, learning of a message recorded earlier)
compares the token it started with against the log when it finishes, in whatever process it
runs, and undoes or skips what it would otherwise bring back.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from memory.schemas import SourceRef

# Events kept per person: enough to cover any work in flight (minutes), small enough to read
# on every turn. Work whose starting token fell off the log is treated as older than all.
MAX_EVENTS = 50


class ErasureEvent(BaseModel):
    """One forget: `everything` for forget all, else the source messages of what was forgotten."""

    token: str = Field(default_factory=lambda: secrets.token_hex(8))
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    everything: bool = False
    sources: list[SourceRef] = Field(default_factory=list)


class ErasureLog(BaseModel):
    """The stored log, oldest first."""

    events: list[ErasureEvent] = Field(default_factory=list)

    @property
    def token(self) -> str | None:
        """The token work records when it starts (None before any erasure)."""
        return self.events[-1].token if self.events else None

    def since(self, token: str | None) -> list[ErasureEvent]:
        """The events after `token`: all of them when the token is unknown or None."""
        for index, event in enumerate(self.events):
            if event.token == token:
                return self.events[index + 1 :]
        return list(self.events)

    def appended(self, event: ErasureEvent) -> ErasureLog:
        """The log with `event` last; forget all also clears what older events pointed at."""
        older = self.events
        if event.everything:
            older = [e.model_copy(update={"sources": []}) for e in older]
        return ErasureLog(events=[*older, event][-MAX_EVENTS:])
