"""The checks a memory kind, and a set of kinds, must pass before the bot runs with them.

`check_kinds` runs when a memory.kinds.KindRegistry is built (at start, for the built-in kinds
and for MEMORY_KINDS), so a kind the bot could not store, show, offer to the model or let a
person type is refused with one line naming it, before anything is opened or asked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from memory.errors import ConfigurationError
from memory.storage.namespaces import INTERNAL

if TYPE_CHECKING:
    from memory.kinds import MemoryKind

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# A profile field is an item whose id a person types: `preferred_name` is `preferred-name`.
FIELD_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{1,39}$")
# OpenAI's function name rule, which the other providers' tool names also satisfy.
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# Store sections that hold no memory kind (memory.storage.namespaces), and the show scope "all".
RESERVED_NAMES = frozenset({"all", *INTERNAL})
# trustcall's own tools, which sit beside ours in every extraction request.
RESERVED_TOOLS = frozenset({"PatchDoc", "RemoveDoc", "PatchFunctionErrors", "PatchFunctionName"})


class KindError(ConfigurationError):
    """A memory kind, or a set of them, that the bot cannot use (the message says why)."""


def check_kinds(kinds: Sequence[MemoryKind]) -> None:
    """Raises KindError for a set of kinds the bot cannot use: none at all, a bad or reserved
    name, two kinds with one name, item name, alias or tool name, a schema that cannot be a
    tool, a profile field that cannot be typed as an id or has no default, two profiles with one
    field, a field named in the kind that the schema lacks, a negative number or a cap of 0."""
    if not kinds:
        raise KindError("no memory kinds: give at least one")
    for kind in kinds:
        check_kind(kind)
    _unique([k.name for k in kinds], "kinds named")
    _unique([k.item for k in kinds], "kinds whose items are called")
    _unique([k.tool for k in kinds], "kinds with the schema")
    _unique([a for k in kinds for a in (k.name, *k.aliases)], "kinds answering to")
    _unique([f for k in kinds if k.is_profile for f in k.fields], "profiles with the field")


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise KindError(f"two {what} `{value}`: each must be unique")
        seen.add(value)


def check_kind(kind: MemoryKind) -> None:
    """Raises KindError, naming the kind, for one kind the bot cannot use (see check_kinds)."""
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
