"""Master-key rotation over the store: every wrapped data key and every value sealed directly
with the master key, sealed again with the current master key (see KeyRing).

After it, nothing in the live store needs an older master key, so the old key can be
discarded; copies of wrapped data keys left in a write-ahead log, dead row versions or
backups were wrapped with that old key, and open no more once it is gone.

Rows are replaced only if they are unchanged since they were read (memory.sealing.ValueSwap,
from the storage layer): a rotation running while the bot works must never bring back a data
key that forget all destroyed meanwhile, nor overwrite a newer value with an older one.
"""

from __future__ import annotations

from dataclasses import dataclass

from langgraph.store.base import BaseStore

from memory.sealing import KEYS_ROOT, SEALED, KeyRing, ValueSwap

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
    """Re-wrap every data key and re-seal every master-sealed store value with `ring`'s
    current master key, each through `swap`. Raises ValueError for a row no configured key
    opens (what was replaced before it stays readable with the current key)."""
    done = Rotated()
    for _ in range(MAX_PASSES):
        needed = 0
        offset = 0
        while rows := await store.asearch((), limit=PAGE, offset=offset):
            for item in rows:
                is_key = item.namespace[:1] == (KEYS_ROOT,)
                if is_key:
                    new = ring.rewrapped(item.namespace[-1], item.key, item.value)
                else:
                    new = ring.reseal_value(item.value)
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
            if item.namespace[:1] == (KEYS_ROOT,):
                name = str(item.value.get("wrapped", "")).partition(":")[0]
            else:
                name = str(item.value.get(SEALED, "")).partition(":")[0]
            left += bool(name) and not ring.is_current(name)
        offset += len(rows)
    return left
