"""What is remembered: the pydantic schemas the model fills through trustcall, and provenance.

The schemas are what the model sees and patches. Provenance and bookkeeping live beside
them in the stored value, so a model can never rewrite where a memory came from.
Fields are optional with defaults so that documents written by older versions still load.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

SCHEMA_VERSION = 1
MAX_TEXT = 500

Kind = Literal["profile", "fact", "todo"]


class Profile(BaseModel):
    """What the person has said about themselves: who they are and how they like to work."""

    name: str | None = Field(default=None, description="Full name", max_length=120)
    preferred_name: str | None = Field(default=None, description="What to call them", max_length=80)
    role: str | None = Field(default=None, description="Job or role", max_length=200)
    team: str | None = Field(default=None, description="Team or organization", max_length=200)
    location: str | None = Field(default=None, description="City or region", max_length=200)
    timezone: str | None = Field(default=None, description="IANA time zone", max_length=64)
    languages: list[str] = Field(default_factory=list, description="Languages they speak")
    interests: list[str] = Field(default_factory=list, description="Topics they care about")
    preferences: list[str] = Field(
        default_factory=list, description="How they like answers, e.g. 'short replies'"
    )


class Fact(BaseModel):
    """One durable fact the person shared about themselves (not about other people)."""

    content: str = Field(
        description="The fact, as a short sentence", min_length=1, max_length=MAX_TEXT
    )
    category: str | None = Field(
        default=None, description="e.g. work, family, health", max_length=60
    )
    subject: str = Field(
        default="self",
        description="Who the fact is about: 'self' when the person says it about themselves,"
        " otherwise that other person's name (such facts are not kept)",
        max_length=80,
    )
    when: str | None = Field(
        default=None,
        description="When it happens or happened, if they said: YYYY-MM-DD, with relative dates"
        " ('next Friday', 'yesterday') worked out from the date the message was said",
        max_length=40,
    )


class Todo(BaseModel):
    """Something the person asked to be reminded of or plans to do."""

    task: str = Field(description="What to do", min_length=1, max_length=MAX_TEXT)
    due: str | None = Field(
        default=None,
        description="When it is due: YYYY-MM-DD when a date can be worked out (relative dates"
        " like 'next Friday' from the date the message was said), otherwise as they said it",
        max_length=100,
    )
    status: Literal["open", "done"] = Field(default="open", description="open or done")


SCHEMA_BY_KIND: dict[Kind, type[BaseModel]] = {"profile": Profile, "fact": Fact, "todo": Todo}
KIND_BY_TOOL: dict[str, Kind] = {"Profile": "profile", "Fact": "fact", "Todo": "todo"}


class Provenance(BaseModel):
    """Where and when a memory was learned, so `/memory show` can say why it is there."""

    platform: str
    conversation: str
    message_id: str | None = None
    permalink: str | None = None
    audience: Literal["dm", "channel"]
    learned_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # When the person said it (the message's own time); None for what no message said.
    said_at: datetime | None = None

    @property
    def said(self) -> datetime:
        return self.said_at or self.learned_at


class Earlier(BaseModel):
    """What an item said before a later message changed it, and when that was said."""

    text: str
    said_at: datetime


MAX_SOURCES = 50


class SourceRef(BaseModel):
    """One platform message a memory was learned from (found again when it is forgotten)."""

    conversation: str
    message_id: str


def merge_sources(*groups: list[SourceRef]) -> list[SourceRef]:
    """The union of source lists, oldest first, at most MAX_SOURCES (the newest are kept)."""
    merged: dict[tuple[str, str], SourceRef] = {}
    for group in groups:
        for ref in group:
            merged[(ref.conversation, ref.message_id)] = ref
    return list(merged.values())[-MAX_SOURCES:]


class StoredItem(BaseModel):
    """The value kept in the store for one memory item."""

    kind: Kind
    data: dict[str, Any]
    provenance: Provenance
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    schema_version: int = SCHEMA_VERSION
    # Set when an embeddings model is configured; used to rank recall by meaning.
    embedding: list[float] | None = None
    # The messages it was learned from; for a profile, per field (forgotten one by one).
    sources: list[SourceRef] = Field(default_factory=list)
    field_sources: dict[str, list[SourceRef]] = Field(default_factory=dict)
    # Newest first: what it said before later messages updated it (see memory.timeline).
    previous: list[Earlier] = Field(default_factory=list)

    @property
    def audience(self) -> str:
        return self.provenance.audience

    def remembered_texts(self, field: str | None = None) -> tuple[str, ...]:
        """The words this memory holds (of one profile field, if given), to find copies of."""
        # What it said before an update is forgotten with it.
        earlier = tuple(e.text for e in self.previous)
        if self.kind == "fact":
            return (str(self.data.get("content") or ""), *earlier)
        if self.kind == "todo":
            return (str(self.data.get("task") or ""), *earlier)
        values = [self.data.get(field)] if field else list(self.data.values())
        found: list[str] = []
        for value in values:
            found.extend(str(v) for v in (value if isinstance(value, list) else [value]) if v)
        return tuple(found)

    def text(self) -> str:
        """One line a person can read."""
        if self.kind == "fact":
            return str(self.data.get("content", ""))
        if self.kind == "todo":
            due = self.data.get("due")
            state = self.data.get("status", "open")
            return (
                f"{self.data.get('task', '')}"
                + (f" (due {due})" if due else "")
                + (" [done]" if state == "done" else "")
            )
        return profile_text(self.data)


def profile_text(data: dict[str, Any]) -> str:
    parts = []
    for field_name, value in data.items():
        if value in (None, [], ""):
            continue
        shown = ", ".join(value) if isinstance(value, list) else str(value)
        parts.append(f"{field_name.replace('_', ' ')}: {shown}")
    return "; ".join(parts)


def field_change_text(name: str, was: Any, now: Any) -> str:
    """What changed in one profile field: `location: Porto -> Lisbon` (or `location: Lisbon`)."""
    new = profile_text({name: now})
    if was in (None, [], ""):
        return new
    old = profile_text({name: was}).partition(": ")[2]
    return f"{new.partition(': ')[0]}: {old} -> {new.partition(': ')[2]}"


def upgrade(value: dict[str, Any]) -> StoredItem:
    """Load a stored value written by this or an older version of the bot."""
    version = int(value.get("schema_version", 0))
    if version < 1 and "data" not in value:
        # Version 0 stored the schema fields at the top level with no provenance block.
        kind = value.get("kind", "fact")
        data = {k: v for k, v in value.items() if k not in ("kind", "schema_version")}
        value = {
            "kind": kind,
            "data": data,
            "provenance": {"platform": "unknown", "conversation": "unknown", "audience": "dm"},
        }
    item = StoredItem.model_validate(value)
    item.schema_version = SCHEMA_VERSION
    return item
