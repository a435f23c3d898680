"""Memory kinds: what the bot remembers, as data.

A `MemoryKind` describes one thing the bot keeps about a person: its pydantic schema (the
trustcall tool the model fills; its docstring and `Field(description=...)` are what the model
reads), whether it is one profile document per person or a collection of items, how it is
shown, its cap, retention and lifecycle, and its recall budget. A `KindRegistry` holds the
kinds one bot runs with; every layer (store, recall, extraction, caps, retention, /memory,
rendering) iterates it. The built-in kinds are declared with these same helpers in
memory.builtin_kinds; a deployer names their own with MEMORY_KINDS.

Public helpers: `profile(...)`, `collection(...)`, `Lifecycle`, `KindRegistry`.
Errors: `KindError` (a ConfigurationError) for a kind or a set of kinds the bot cannot use;
the checks that raise it are in memory.kind_checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel

from memory.kind_checks import KindError, check_kinds

Shape = Literal["profile", "collection"]
Migration = Callable[[dict[str, Any]], dict[str, Any]]
LineFn = Callable[[dict[str, Any]], str]

__all__ = [
    "KindError",
    "KindRegistry",
    "Lifecycle",
    "MemoryKind",
    "collection",
    "fields_text",
    "known",
    "profile",
]


@dataclass(frozen=True)
class Lifecycle:
    """Items with a state field, like a todo's open/done: `open` items are recalled; an open
    item nobody mentioned for `expire_days` is shown as "expired" and no longer recalled."""

    field: str = "status"
    open: str = "open"
    expire_days: int | None = None


@dataclass(frozen=True)
class MemoryKind:
    """One kind of memory. Build it with `profile(...)` or `collection(...)`.

    `name` is the store section, the `/memory show <name>` scope and the export key;
    `item` what one item is called (stored in each item, shown in Discord embeds and history).
    """

    name: str
    schema: type[BaseModel]
    shape: Shape
    item: str
    title: str
    about: str
    text_field: str | None = None
    line_fn: LineFn | None = None
    cap: int | None = None
    retention_days: int | None = None
    forgettable: tuple[str, ...] | None = None
    lifecycle: Lifecycle | None = None
    recall_limit: int = 8
    recall_chars: int = 2000
    recall_label: str = ""
    subject_field: str | None = None
    when_field: str | None = None
    aliases: tuple[str, ...] = ()
    version: int = 1
    migrations: Mapping[int, Migration] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def tool(self) -> str:
        """The trustcall tool name the model calls: the schema's class name."""
        return self.schema.__name__

    @property
    def is_profile(self) -> bool:
        """Whether the kind is one document per person (a profile), not a collection of items."""
        return self.shape == "profile"

    @property
    def fields(self) -> tuple[str, ...]:
        """The schema's field names, in declaration order."""
        return tuple(self.schema.model_fields)

    def line(self, data: dict[str, Any]) -> str:
        """One line a person reads (without the lifecycle state)."""
        if self.line_fn is not None:
            return self.line_fn(data)
        if self.text_field and not self.is_profile:
            # An item stored before its text field existed still reads as something.
            return str(data.get(self.text_field) or "") or fields_text(data)
        return fields_text(data)

    def words(self, data: dict[str, Any]) -> str:
        """The item's own words: what tells "said again" and which message it came from."""
        if self.text_field and not self.is_profile:
            return str(data.get(self.text_field) or "")
        return fields_text(data)

    def status(self, data: dict[str, Any]) -> str:
        """The stored lifecycle state ("" without a lifecycle)."""
        if self.lifecycle is None:
            return ""
        return str(data.get(self.lifecycle.field) or self.lifecycle.open)

    def state(self, data: dict[str, Any], updated_at: datetime, now: datetime) -> str:
        """The state a person sees: the stored one, or "expired" for an open item left alone."""
        status = self.status(data)
        life = self.lifecycle
        if life is None or status != life.open or life.expire_days is None:
            return status
        return "expired" if now - updated_at > timedelta(days=life.expire_days) else status

    def recalled(self, data: dict[str, Any], updated_at: datetime, now: datetime) -> bool:
        """Whether the item reaches the reply prompt (finished and expired items do not)."""
        life = self.lifecycle
        return life is None or self.state(data, updated_at, now) == life.open

    def is_gone(self, data: dict[str, Any], updated_at: datetime, now: datetime) -> bool:
        """Past retention: swept from the store and never shown again."""
        if self.retention_days is None or self.is_profile:
            return False
        age = now - updated_at
        life = self.lifecycle
        if life is not None:
            state = self.state(data, updated_at, now)
            if state == life.open:
                return False
            if state == "expired" and life.expire_days is not None:
                age -= timedelta(days=life.expire_days)
        return age > timedelta(days=self.retention_days)

    def may_forget(self, field_name: str) -> bool:
        """Whether a person may forget this profile field on its own (by its id)."""
        return self.forgettable is None or field_name in self.forgettable

    def about_someone_else(self, data: dict[str, Any]) -> bool:
        """An item the model says is about another person: not kept for this one."""
        if self.subject_field is None:
            return False
        subject = str(data.get(self.subject_field) or "self").strip().lower()
        return subject not in ("self", "me", "myself", "")


def fields_text(data: dict[str, Any]) -> str:
    """`location: Lisbon; languages: pt, en`: the non-empty fields of a document, one line."""
    parts = []
    for field_name, value in data.items():
        if value in (None, [], ""):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{field_name.replace('_', ' ')}: {shown}")
    return "; ".join(parts)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _about(schema: type[BaseModel], about: str | None) -> str:
    if about:
        return about
    doc = (schema.__doc__ or "").strip().splitlines()
    return doc[0] if doc else schema.__name__


def profile(
    schema: type[BaseModel],
    *,
    name: str | None = None,
    title: str | None = None,
    about: str | None = None,
    forgettable: Iterable[str] | None = None,
    recall_chars: int = 2000,
    version: int = 1,
    migrations: Mapping[int, Migration] | None = None,
) -> MemoryKind:
    """A profile: one document per person, patched in place (every field needs a default).

    `name` defaults to the schema's name in snake_case (`Customer` -> `customer`); `about`
    (one line telling the model what the tool is for) to the schema's docstring's first line;
    `forgettable` to every field. `migrations[v]` turns a version-v document into v + 1.
    """
    kind_name = name or _snake(schema.__name__)
    return MemoryKind(
        name=kind_name,
        schema=schema,
        shape="profile",
        item=kind_name,
        title=title or kind_name.replace("_", " ").capitalize(),
        about=_about(schema, about),
        forgettable=tuple(forgettable) if forgettable is not None else None,
        recall_chars=recall_chars,
        version=version,
        migrations=MappingProxyType(dict(migrations or {})),
    )


def collection(
    schema: type[BaseModel],
    *,
    name: str | None = None,
    item: str | None = None,
    title: str | None = None,
    about: str | None = None,
    text_field: str | None = None,
    line: LineFn | None = None,
    cap: int | None = 200,
    retention_days: int | None = None,
    lifecycle: Lifecycle | None = None,
    recall_limit: int = 8,
    recall_chars: int = 2000,
    recall_label: str = "",
    subject_field: str | None = None,
    when_field: str | None = None,
    aliases: Iterable[str] = (),
    version: int = 1,
    migrations: Mapping[int, Migration] | None = None,
) -> MemoryKind:
    """A collection: many items per person, inserted, patched and removed one by one.

    `item` defaults to the schema's name in snake_case (`OpenTicket` -> `open_ticket`), `name`
    to that plus "s"; `text_field` to the first text field (its words tell "said again");
    `line` (data -> one line a person reads) to that field. `cap`: at most this many items
    (over it, the model merges and the oldest go; None: no cap). `retention_days`: deleted this
    long after their last change (None: kept; with a lifecycle, only finished items go).
    `subject_field`: items whose subject is not "self" are not kept. `when_field`: a date shown
    with the item in recall. `migrations[v]` turns a version-v item into v + 1.
    """
    item_name = item or _snake(schema.__name__)
    kind_name = name or item_name + "s"
    if text_field is None:
        text_field = next(
            (n for n, f in schema.model_fields.items() if f.annotation is str),
            None,
        )
    return MemoryKind(
        name=kind_name,
        schema=schema,
        shape="collection",
        item=item_name,
        title=title or kind_name.replace("_", " ").capitalize(),
        about=_about(schema, about),
        text_field=text_field,
        line_fn=line,
        cap=cap,
        retention_days=retention_days,
        lifecycle=lifecycle,
        recall_limit=recall_limit,
        recall_chars=recall_chars,
        recall_label=recall_label,
        subject_field=subject_field,
        when_field=when_field,
        aliases=tuple(aliases),
        version=version,
        migrations=MappingProxyType(dict(migrations or {})),
    )


# Every kind a registry was built with, by item name, so a stored item can render itself
# (memory.schemas.StoredItem.text) without each caller passing the registry along.
_KNOWN: dict[str, MemoryKind] = {}


def known(item: str) -> MemoryKind | None:
    """The kind whose items are called `item`, from the registries built in this process."""
    return _KNOWN.get(item)


class KindRegistry:
    """The memory kinds one bot runs with, in order (profiles first in recall and show).

    Raises KindError for a kind the bot cannot use (see memory.kind_checks.check_kinds).
    """

    def __init__(self, kinds: Iterable[MemoryKind]) -> None:
        self.kinds: tuple[MemoryKind, ...] = tuple(kinds)
        check_kinds(self.kinds)
        self._by_name = {k.name: k for k in self.kinds}
        self._by_item = {k.item: k for k in self.kinds}
        self._by_tool = {k.tool: k for k in self.kinds}
        self._scopes = {a: k.name for k in self.kinds for a in (k.name, k.item, *k.aliases)}
        for kind in self.kinds:
            _KNOWN[kind.item] = kind

    def __iter__(self) -> Iterator[MemoryKind]:
        return iter(self.kinds)

    def __len__(self) -> int:
        return len(self.kinds)

    @property
    def names(self) -> tuple[str, ...]:
        """Every kind's name (its store section and `/memory show` scope), in order."""
        return tuple(k.name for k in self.kinds)

    @property
    def profiles(self) -> tuple[MemoryKind, ...]:
        """The profile kinds, in order."""
        return tuple(k for k in self.kinds if k.is_profile)

    @property
    def collections(self) -> tuple[MemoryKind, ...]:
        """The collection kinds, in order."""
        return tuple(k for k in self.kinds if not k.is_profile)

    @property
    def schemas(self) -> list[type[BaseModel]]:
        """Every kind's pydantic schema, in order: the tools trustcall offers the model."""
        return [k.schema for k in self.kinds]

    def get(self, name: str) -> MemoryKind | None:
        """The kind named `name` (a store section), or None."""
        return self._by_name.get(name)

    def by_item(self, item: str) -> MemoryKind | None:
        """The kind whose items are called `item` (as stored in each item's `kind`), or None."""
        return self._by_item.get(item)

    def by_tool(self, tool: str) -> MemoryKind | None:
        """The kind whose schema is the tool named `tool` (the model's tool call), or None."""
        return self._by_tool.get(tool)

    def scope(self, word: str) -> str | None:
        """The kind a `/memory show <word>` means (its name, item name or an alias)."""
        return self._scopes.get(word)

    def profile_of(self, field_name: str) -> MemoryKind | None:
        """The profile kind that has this field."""
        return next((k for k in self.profiles if field_name in k.fields), None)
