"""Stored items against the schema their kind declares now: migrated, current, or invalid.

A deployer may edit a kind's schema. Added optional fields just appear; a renamed or removed
field is handled by the kind's migration for each older version. An item that still does not
fit is kept exactly as stored, shown and exported as it is, and reported (a log line and the
`bot_memory_invalid_items_total` counter); it is never dropped or rewritten silently, and it
is not offered to the model to patch.
"""

from __future__ import annotations

import logging
from collections import Counter

from pydantic import ValidationError

from memory.kinds import MemoryKind
from memory.schemas import StoredItem

log = logging.getLogger(__name__)

# Items found not to fit their kind's schema when read, by kind name, since the process started.
INVALID_SEEN: Counter[str] = Counter()


def evolve(item: StoredItem, kind: MemoryKind | None) -> StoredItem:
    """The item as its kind reads it now, with `fit` saying how: "current", "migrated" (its
    data run through the kind's migrations, in memory; stored when it is next written),
    "invalid" (left as stored) or "unknown" (a kind no longer declared). Never raises."""
    if kind is None:
        return item.model_copy(update={"fit": "unknown"})
    data = item.data
    migrated = item.kind_version < kind.version
    try:
        for version in range(item.kind_version, kind.version):
            step = kind.migrations.get(version)
            if step is not None:
                data = step(dict(data))
        kind.schema.model_validate(data)
    except Exception as exc:  # a ValidationError, or a migration that raised
        INVALID_SEEN[kind.name] += 1
        # The reason names fields, never their values: stored text stays out of the logs.
        log.warning(
            "a stored %s item does not fit its schema (version %d); kept as it was: %s",
            kind.name,
            item.kind_version,
            _reason(exc),
        )
        return item.model_copy(update={"fit": "invalid"})
    if migrated:
        return item.model_copy(
            update={"data": data, "kind_version": kind.version, "fit": "migrated"}
        )
    return item


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'item'}: {e['type']}" for e in exc.errors()
        )
    return f"the migration failed ({type(exc).__name__})"


def prometheus() -> list[str]:
    """The invalid-item counter in Prometheus text format."""
    name = "bot_memory_invalid_items_total"
    lines = [
        f"# HELP {name} Stored memory items read that do not fit their kind's schema, by kind.",
        f"# TYPE {name} counter",
    ]
    lines += [f'{name}{{kind="{k}"}} {n}' for k, n in sorted(INVALID_SEEN.items())]
    return lines
