"""Memory kinds: what the bot remembers, as data.

A `MemoryKind` describes one thing the bot keeps about a person: its pydantic schema (the
trustcall tool the model fills; its docstring and `Field(description=...)` are what the model
reads), whether it is one profile document per person or a collection of items, how it is
shown, its cap, retention and lifecycle, and its recall budget. A `KindRegistry` holds the
kinds one bot runs with; every layer (store, recall, extraction, caps, retention, /memory,
rendering) iterates it. The built-in kinds are declared with these same helpers in
memory.builtin_kinds; a deployer names their own with MEMORY_KINDS.

Public helpers: `profile(...)`, `collection(...)`, `Lifecycle`, `KindRegistry`.
Errors: `KindError` (a ConfigurationError) for a kind or a set of kinds the bot cannot use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal

from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from memory.errors import ConfigurationError
from memory.namespaces import INTERNAL

Shape = Literal["profile", "collection"]
Migration = Callable[[dict[str, Any]], dict[str, Any]]
LineFn = Callable[[dict[str, Any]], str]

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# A profile field is an item whose id a person types: `preferred_name` is `preferred-name`.
FIELD_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{1,39}$")
# OpenAI's function name rule, which the other providers' tool names also satisfy.
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# Store sections that hold no memory kind (memory.namespaces), and the show scope "all".
RESERVED_NAMES = frozenset({"all", *INTERNAL})
# trustcall's own tools, which sit beside ours in every extraction request.
RESERVED_TOOLS = frozenset({"PatchDoc", "RemoveDoc", "PatchFunctionErrors", "PatchFunctionName"})


class KindError(ConfigurationError):
    """A memory kind, or a set of them, that the bot cannot use (the message says why)."""


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
        return self.shape == "profile"

    @property
    def fields(self) -> tuple[str, ...]:
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

    Raises KindError for a kind the bot cannot use: a bad or reserved name, two kinds with one
    name, item name or tool name, a schema that cannot be a tool, a profile field without a
    default, two profiles with one field, a field named in the kind that the schema lacks.
    """

    def __init__(self, kinds: Iterable[MemoryKind]) -> None:
        self.kinds: tuple[MemoryKind, ...] = tuple(kinds)
        if not self.kinds:
            raise KindError("no memory kinds: give at least one")
        for kind in self.kinds:
            _check(kind)
        _unique([k.name for k in self.kinds], "kinds named")
        _unique([k.item for k in self.kinds], "kinds whose items are called")
        _unique([k.tool for k in self.kinds], "kinds with the schema")
        _unique([a for k in self.kinds for a in (k.name, *k.aliases)], "kinds answering to")
        _unique([f for k in self.profiles for f in k.fields], "profiles with the field")
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
        return tuple(k.name for k in self.kinds)

    @property
    def profiles(self) -> tuple[MemoryKind, ...]:
        return tuple(k for k in self.kinds if k.is_profile)

    @property
    def collections(self) -> tuple[MemoryKind, ...]:
        return tuple(k for k in self.kinds if not k.is_profile)

    @property
    def schemas(self) -> list[type[BaseModel]]:
        return [k.schema for k in self.kinds]

    def get(self, name: str) -> MemoryKind | None:
        return self._by_name.get(name)

    def by_item(self, item: str) -> MemoryKind | None:
        return self._by_item.get(item)

    def by_tool(self, tool: str) -> MemoryKind | None:
        return self._by_tool.get(tool)

    def scope(self, word: str) -> str | None:
        """The kind a `/memory show <word>` means (its name, item name or an alias)."""
        return self._scopes.get(word)

    def profile_of(self, field_name: str) -> MemoryKind | None:
        """The profile kind that has this field."""
        return next((k for k in self.profiles if field_name in k.fields), None)


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise KindError(f"two {what} `{value}`: each must be unique")
        seen.add(value)


def _check(kind: MemoryKind) -> None:
    if not (isinstance(kind.schema, type) and issubclass(kind.schema, BaseModel)):
        raise KindError(f"kind `{kind.name}`: the schema must be a pydantic BaseModel class")
    for label, value in (("name", kind.name), ("item name", kind.item)):
        if not NAME.match(value) or value in RESERVED_NAMES:
            raise KindError(
                f"kind `{kind.name}`: {label} `{value}` must be lowercase letters, digits and _, "
                f"at most 40 characters, and not one of {', '.join(sorted(RESERVED_NAMES))}"
            )
    if not TOOL_NAME.match(kind.tool) or kind.tool in RESERVED_TOOLS:
        raise KindError(f"kind `{kind.name}`: the model cannot call a tool named `{kind.tool}`")
    try:
        convert_to_openai_tool(kind.schema)
    except Exception as exc:
        raise KindError(
            f"kind `{kind.name}`: schema {kind.tool} cannot be offered to the model as a tool "
            f"({type(exc).__name__}: {exc})"
        ) from None
    fields = kind.schema.model_fields
    for alias in kind.aliases:
        if not NAME.match(alias):
            raise KindError(
                f"kind `{kind.name}`: alias `{alias}` must be lowercase letters, digits and _ "
                "(it is typed after `/memory show`)"
            )
    if kind.is_profile:
        # Each field is an item with an id a person types (`/memory forget preferred-name`).
        bad = [n for n in fields if not FIELD_NAME.match(n)]
        if bad:
            raise KindError(
                f"kind `{kind.name}`: profile field `{bad[0]}` cannot be typed as an id: use "
                "2 to 40 lowercase letters, digits and _"
            )
        required = [n for n, f in fields.items() if f.is_required()]
        if required:
            raise KindError(
                f"kind `{kind.name}`: a profile starts empty, so every field needs a default; "
                f"{', '.join(required)} has none"
            )
    named = [kind.text_field, kind.subject_field, kind.when_field, *(kind.forgettable or ())]
    if kind.lifecycle is not None:
        named.append(kind.lifecycle.field)
    missing = [n for n in named if n is not None and n not in fields]
    if missing:
        raise KindError(f"kind `{kind.name}`: schema {kind.tool} has no field {missing[0]}")
    if not kind.is_profile and kind.text_field is None and kind.line_fn is None:
        raise KindError(f"kind `{kind.name}`: give text_field= (the field that holds its words)")
    if kind.version < 1 or any(not 1 <= v < kind.version for v in kind.migrations):
        raise KindError(
            f"kind `{kind.name}`: version must be 1 or more, and migrations keyed by the "
            "versions before it"
        )
    for number, limit in (
        ("cap", kind.cap),
        ("retention_days", kind.retention_days),
        ("recall_limit", kind.recall_limit),
    ):
        if limit is not None and limit < 0:
            raise KindError(f"kind `{kind.name}`: {number} cannot be negative")
    if kind.cap == 0:
        raise KindError(f"kind `{kind.name}`: a cap of 0 would keep nothing; leave it unset")
