"""Master-key rotation over the store: every wrapped data key and every value sealed directly
with the master key, sealed again with the current master key (see KeyRing).

After it, nothing in the live store needs an older master key, so the old key can be
discarded; copies of wrapped data keys left in a write-ahead log, dead row versions or
backups were wrapped with that old key, and open no more once it is gone.
"""

from __future__ import annotations

from dataclasses import dataclass

from langgraph.store.base import BaseStore

from memory.sealing import KEYS_ROOT, KeyRing

PAGE = 500
# A resealed row moves to the front of the store's order; passes repeat until one finds
# nothing left (normally the second).
MAX_PASSES = 5


@dataclass
class Rotated:
    """What a rotation did: data keys re-wrapped, store values re-sealed."""

    keys: int = 0
    values: int = 0


async def rotate_store(store: BaseStore, ring: KeyRing) -> Rotated:
    """Re-wrap every data key and re-seal every master-sealed store value with `ring`'s
    current master key. Raises ValueError for something no configured key opens (nothing
    after it is changed; what was changed before stays readable with the current key)."""
    done = Rotated(keys=await ring.rewrap_all(PAGE))
    for _ in range(MAX_PASSES):
        resealed = 0
        offset = 0
        while rows := await store.asearch((), limit=PAGE, offset=offset):
            for item in rows:
                if item.namespace[:1] == (KEYS_ROOT,):
                    continue
                value = ring.reseal_value(item.value)
                if value is not None:
                    await store.aput(item.namespace, item.key, value, index=False)
                    resealed += 1
            offset += len(rows)
        done.values += resealed
        if resealed == 0:
            break
    return done
