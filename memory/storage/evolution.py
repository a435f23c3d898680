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

from langgraph.store.base import BaseStore
from pydantic import ValidationError

from memory.kinds import KindRegistry, MemoryKind
from memory.schemas import StoredItem, upgrade
from memory.storage.namespaces import ROOT, is_memory_section
from memory.storage.sealing import KeyRing, Sealer, unopenable

log = logging.getLogger(__name__)

# Items found not to fit their kind's schema when read, by kind name, since the process started.
INVALID_SEEN: Counter[str] = Counter()
PAGE = 500


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


FITS = ("current", "migrated", "invalid")


async def check_store(
    store: BaseStore, sealer: Sealer, kinds: KindRegistry, reasons: dict[str, str] | None = None
) -> dict[str, Counter[str]]:
    """Every person's stored items, counted by section and fit (see `evolve`), read-only:
    `{"facts": Counter(current=12, migrated=1), "old_tickets": Counter(unknown=3)}`. Every
    declared kind is in the answer, with zeros when nothing is stored. An item that cannot
    even be opened (another encryption key, a foreign row) counts as "unreadable"; the first
    one's reason (key ids, never content) is put in `reasons["why"]` when `reasons` is given."""
    counts: dict[str, Counter[str]] = {kind.name: Counter() for kind in kinds}
    if reasons is None:
        reasons = {}
    # Items sealed with a person's own data key open once that key is read from the store.
    keys = sealer if isinstance(sealer, KeyRing) else None
    if keys is not None and keys.store is None:
        keys.attach(store)
    namespaces = await store.alist_namespaces(prefix=(ROOT,), max_depth=3, limit=1_000_000)
    for namespace in namespaces:
        if len(namespace) != 3 or not is_memory_section(namespace[2]):
            continue
        section = namespace[2]
        tally = counts.setdefault(section, Counter())
        offset = 0
        while found := await store.asearch(namespace, limit=PAGE, offset=offset):
            offset += len(found)
            for row in found:
                try:
                    if keys is not None:  # one by one: a key that does not open is one item's
                        await keys.ready([row.value])
                    item = upgrade(sealer.open(row.value))
                except Exception as exc:
                    tally["unreadable"] += 1
                    reasons.setdefault("why", unopenable(exc) or type(exc).__name__)
                    continue
                tally[evolve(item, kinds.get(section)).fit] += 1
    return counts


def check_report(counts: dict[str, Counter[str]]) -> list[str]:
    """`facts: 12 current, 1 migrated, 0 invalid`, one line per section."""
    lines = []
    for section, tally in counts.items():
        if "unknown" in tally:
            line = f"{section}: {tally['unknown']} item(s) of a kind no longer declared"
        else:
            line = f"{section}: " + ", ".join(f"{tally[fit]} {fit}" for fit in FITS)
        if tally["unreadable"]:
            line += f", {tally['unreadable']} unreadable"
        lines.append(line)
    return lines
