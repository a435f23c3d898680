"""`bot memory rotate-key`: everything sealed with an older master key, sealed again with the
current one (MEMORY_ENCRYPTION_KEY), in the store (memory.rotation), the inbox and the
conversation checkpoints (here: their tables are SQL of the storage layer)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.storage import Storage, store_swap
from memory.rotation import rotate_store, still_needed
from memory.sealing import SEALED, KeyRing

# Serialized checkpoint values whose type names a cipher ("msgpack+aesgcm-<id>", see
# LangGraph's EncryptedSerializer), per backend: (table, type column, value column).
CHECKPOINT_COLUMNS = {
    "postgres": [("checkpoint_blobs", "type", "blob"), ("checkpoint_writes", "type", "blob")],
    "sqlite": [("checkpoints", "type", "checkpoint"), ("writes", "type", "value")],
}


@dataclass
class RotationReport:
    """Counts of what was sealed again with the current master key; `left`: what is still
    sealed with an older one afterwards (rewritten meanwhile by a process on old settings)."""

    keys: int
    values: int
    inbox: int
    checkpoints: int
    left: int


async def rotate(storage: Storage, ring: KeyRing) -> RotationReport:
    """Re-wrap every data key and re-seal every master-sealed value (store, inbox, checkpoints)
    with `ring`'s current master key. Raises ValueError for a value no configured key opens."""
    stored = await rotate_store(storage.store, ring, store_swap(storage))
    inbox = await _rows(
        storage, "SELECT event_key, payload FROM bot_inbox WHERE payload IS NOT NULL"
    )
    resealed_inbox = 0
    for key, payload in inbox:
        value = ring.reseal_value(json.loads(payload))
        if value is not None:
            sql = "UPDATE bot_inbox SET payload = %s WHERE event_key = %s AND payload = %s"
            await _run(storage, sql, (json.dumps(value), key, payload))
            resealed_inbox += 1
    resealed = 0
    for table, kind, column in CHECKPOINT_COLUMNS[storage.kind]:
        sql = f"SELECT {kind}, {column} FROM {table} WHERE {kind} LIKE %s"
        for typ, blob in await _rows(storage, sql, ("%+aesgcm-%",)):
            serial, _, cipher = str(typ).partition("+")
            new = ring.reseal(cipher, bytes(blob))
            if new is None:
                continue
            update = (
                f"UPDATE {table} SET {kind} = %s, {column} = %s WHERE {kind} = %s AND {column} = %s"
            )
            await _run(storage, update, (f"{serial}+{new[0]}", new[1], typ, blob))
            resealed += 1
    left = await still_needed(storage.store, ring) + await _old_elsewhere(storage, ring)
    return RotationReport(stored.keys, stored.values, resealed_inbox, resealed, left)


async def _old_elsewhere(storage: Storage, ring: KeyRing) -> int:
    """Inbox payloads and checkpoint values still sealed with an older master key (changed
    by another process between this rotation's read and its write)."""
    left = 0
    sql = "SELECT payload FROM bot_inbox WHERE payload IS NOT NULL"
    for (payload,) in await _rows(storage, sql):
        sealed = json.loads(payload).get(SEALED)
        left += isinstance(sealed, str) and not ring.is_current(sealed.partition(":")[0])
    for table, kind, _column in CHECKPOINT_COLUMNS[storage.kind]:
        sql = f"SELECT {kind} FROM {table} WHERE {kind} LIKE %s"
        for (typ,) in await _rows(storage, sql, ("%+aesgcm-%",)):
            left += not ring.is_current(str(typ).partition("+")[2])
    return left


def _connection(storage: Storage, sql: str) -> Any:
    """The SQLite connection holding the table `sql` names (checkpoints, store or inbox)."""
    checkpoints, _memory, inbox = storage.sqlite_connections
    return inbox if "bot_inbox" in sql else checkpoints


async def _rows(storage: Storage, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
    if storage.pool is not None:
        async with storage.pool.connection() as conn:
            cursor = await conn.execute(sql, args)
            return [tuple(row.values()) for row in await cursor.fetchall()]
    cursor = await _connection(storage, sql).execute(sql.replace("%s", "?"), args)
    return list(await cursor.fetchall())


async def _run(storage: Storage, sql: str, args: tuple[Any, ...]) -> None:
    if storage.pool is not None:
        async with storage.pool.connection() as conn:
            await conn.execute(sql, args)
        return
    conn = _connection(storage, sql)
    await conn.execute(sql.replace("%s", "?"), args)
    await conn.commit()
