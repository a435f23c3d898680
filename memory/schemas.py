"""What is remembered: the pydantic schemas the model fills through trustcall, and provenance.

The schemas are what the model sees and patches. Provenance and bookkeeping live beside
them in the stored value, so a model can never rewrite where a memory came from.
Fields are optional with defaults so that documents written by older versions still load.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from memory.builtin_kinds import MAX_TEXT, Fact, Profile, Todo
from memory.kinds import MemoryKind, fields_text, known

__all__ = ["MAX_TEXT", "Fact", "Profile", "Todo"]

SCHEMA_VERSION = 1

# What one item is called, from its kind (memory.kinds): "profile", "fact", "todo", or a
# deployer's own. Items of a kind no longer declared keep theirs.
Kind = str


class Provenance(BaseModel):
    """Where and when a memory was learned, so `/memory show` can say why it is there."""

    platform: str
    conversation: str
    message_id: str | None = None
    permalink: str | None = None
    audience: Literal["dm", "channel"]
    # The channel's name, when the platform gave it (Discord's `general`).
    conversation_name: str | None = None
    learned_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # When the person said it (the message's own time); None for what no message said.
    said_at: datetime | None = None

    @property
    def said(self) -> datetime:
        """When the person said it: the message's own time, else when it was learned."""
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
    # The version of the kind's own schema the data was written in (memory.storage.evolution).
    kind_version: int = 1
    # How the data fits its kind's schema now (memory.storage.evolution); never stored.
    fit: Literal["current", "migrated", "invalid", "unknown"] = Field(
        default="current", exclude=True
    )
    # Set when an embeddings model is configured; used to rank recall by meaning.
    embedding: list[float] | None = None
    # The messages it was learned from; for a profile, per field (forgotten one by one).
    sources: list[SourceRef] = Field(default_factory=list)
    field_sources: dict[str, list[SourceRef]] = Field(default_factory=dict)
    # Newest first: what it said before later messages updated it (see memory.agent.timeline).
    previous: list[Earlier] = Field(default_factory=list)

    # The kind the repository read this item as (two configurations in one process may
    # describe one item name differently); None: looked up by name (memory.kinds.known).
    _kind: MemoryKind | None = PrivateAttr(default=None)

    @property
    def audience(self) -> str:
        """ "dm" or "channel": where it was learned, which decides where it may be recalled."""
        return self.provenance.audience

    def described(self) -> MemoryKind | None:
        """The kind this item belongs to, or None for a kind no configuration declares."""
        return self._kind or known(self.kind)

    def read_as(self, kind: MemoryKind | None) -> StoredItem:
        """This item, described by `kind` from now on."""
        self._kind = kind
        return self

    def remembered_texts(self, field: str | None = None) -> tuple[str, ...]:
        """The words this memory holds (of one profile field, if given), to find copies of."""
        kind = self.described()
        if kind is not None and not kind.is_profile:
            # What it said before an update is forgotten with it.
            return (kind.words(self.data), *(e.text for e in self.previous))
        values = [self.data.get(field)] if field else list(self.data.values())
        found: list[str] = []
        for value in values:
            found.extend(str(v) for v in (value if isinstance(value, list) else [value]) if v)
        return (*found, *(e.text for e in self.previous)) if kind is None else tuple(found)

    def text(self) -> str:
        """One line a person can read (a finished item says so: `call mum [done]`)."""
        kind = self.described()
        if kind is None or self.fit == "invalid":
            return fields_text(self.data)
        status = kind.status(self.data)
        life = kind.lifecycle
        return kind.line(self.data) + (f" [{status}]" if life and status != life.open else "")


def profile_text(data: dict[str, Any]) -> str:
    """`location: Lisbon; languages: pt, en` (see memory.kinds.fields_text)."""
    return fields_text(data)


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
