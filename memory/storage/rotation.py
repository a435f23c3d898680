"""Master-key rotation over the store: every wrapped data key sealed again with the current
master key, and every person's memory row that is plain (written before a key was set) or
sealed with a master key (by versions before data keys) sealed with that person's data key
(see KeyRing), so forget all shreds it too; what belongs to nobody in particular and is
sealed with an older master key is sealed again with the current one.

After it, nothing in the live store needs an older master key, so the old key can be
discarded; copies of wrapped data keys left in a write-ahead log, dead row versions or
backups were wrapped with that old key, and open no more once it is gone.

Rows are replaced only if they are unchanged since they were read (memory.storage.sealing.ValueSwap,
from the storage layer): a rotation running while the bot works must never bring back a data
key that forget all destroyed meanwhile, nor overwrite a newer value with an older one.

Left as they are, plain by design (they hold no remembered text): revision marks (random
tokens), which accounts make one person, link codes' digests and guess counters, and the
record of the current master key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langgraph.store.base import BaseStore, Item

from memory.storage.namespaces import ROOT
from memory.storage.repository import KEPT_BY_FORGET_ALL, REVISION_KEY
from memory.storage.sealing import (
    DATA_KEY_PREFIX,
    KEYS_ROOT,
    SEALED,
    KeyRing,
    ValueSwap,
    person_owner,
)

PAGE = 500
# A replaced row moves to the front of the store's order, and a row changed meanwhile is left
# for the next pass: passes repeat until one finds nothing left to do (normally the second).
MAX_PASSES = 5


@dataclass
class Rotated:
    """What a rotation did: data keys re-wrapped, store values re-sealed, and how many rows
    still need it (changed by someone else on every pass; 0 normally)."""

    keys: int = 0
    values: int = 0
    left: int = 0


async def rotate_store(store: BaseStore, ring: KeyRing, swap: ValueSwap) -> Rotated:
    """Re-wrap every data key with `ring`'s current master key, seal every person's plain or
    master-sealed memory row with their data key, and re-seal every other master-sealed
    value with the current master key, each through `swap`. Raises ValueError for a row no
    configured key opens (what was replaced before it stays readable with the current
    key)."""
    done = Rotated()
    for _ in range(MAX_PASSES):
        needed = 0
        offset = 0
        while rows := await store.asearch((), limit=PAGE, offset=offset):
            for item in rows:
                is_key = item.namespace[:1] == (KEYS_ROOT,)
                new = await _rotated(item, ring)
                if new is None:
                    continue
                needed += 1
                if await swap(item.namespace, item.key, item.value, new):
                    done.keys += is_key
                    done.values += not is_key
            offset += len(rows)
        done.left = needed
        if needed == 0:  # a whole pass found nothing: done
            break
    else:
        done.left = await still_needed(store, ring)
    return done


async def still_needed(store: BaseStore, ring: KeyRing) -> int:
    """How many store rows are still sealed or wrapped with a master key other than `ring`'s
    current one (read only)."""
    left = 0
    offset = 0
    while rows := await store.asearch((), limit=PAGE, offset=offset):
        for item in rows:
            left += _needs_rotation(item, ring)
        offset += len(rows)
    return left


def _owner(item: Item) -> str | None:
    """The person whose data key should seal this row: rows under ("users", person, section)
    but the erasure log (kept through forget all, so sealed with the master key) and revision
    marks (plain by design); None for any other row."""
    namespace = item.namespace
    if len(namespace) != 3 or namespace[0] != ROOT or namespace[2] == KEPT_BY_FORGET_ALL:
        return None
    if namespace[2] == "settings" and item.key == REVISION_KEY:
        return None
    return person_owner(namespace[1])


def _is_person_log(item: Item) -> bool:
    return len(item.namespace) == 3 and item.namespace[::2] == (ROOT, KEPT_BY_FORGET_ALL)


async def _rotated(item: Item, ring: KeyRing) -> dict[str, Any] | None:
    """The row's new value, or None when it needs nothing (see the module doc)."""
    if item.namespace[:1] == (KEYS_ROOT,):
        return ring.rewrapped(item.namespace[-1], item.key, item.value)
    owner = _owner(item)
    if owner is not None:
        return await ring.to_data_key(owner, item.value)
    if _is_person_log(item) and not isinstance(item.value.get(SEALED), str):
        return ring.seal(item.value)  # an erasure log written before a key was set
    return ring.reseal_value(item.value)


def _needs_rotation(item: Item, ring: KeyRing) -> bool:
    """Whether `_rotated` would change this row (read only, nothing is unwrapped)."""
    if item.namespace[:1] == (KEYS_ROOT,):
        name = str(item.value.get("wrapped", "")).partition(":")[0]
        return bool(name) and not ring.is_current(name)
    sealed = item.value.get(SEALED)
    if _owner(item) is not None:
        return not isinstance(sealed, str) or not sealed.startswith(f"{DATA_KEY_PREFIX}-")
    if _is_person_log(item) and not isinstance(sealed, str):
        return True
    name = str(sealed or "").partition(":")[0]
    return bool(name) and not ring.is_current(name)
