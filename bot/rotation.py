"""`bot memory rotate-key`: everything sealed with an older master key, sealed again with the
current one (MEMORY_ENCRYPTION_KEY), and what was written before a key was set, sealed: in the
store (memory.storage.rotation), the inbox and the conversation checkpoints (here: their tables are
SQL of the storage layer). A checkpoint value that is plain or sealed with a master key is
sealed with its conversation's data key, so deleting the conversation shreds it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.storage import Storage, store_swap
from memory import SEALED, KeyRing, rotate_store, still_needed, thread_owner

# Serialized checkpoint values, per backend: (table, type column, value column). The type is
# the serializer's ("msgpack"), with the cipher's name after a "+" when sealed
# ("msgpack+aesgcm-<id>", "msgpack+dk1-<owner>-<id>"; see LangGraph's EncryptedSerializer).
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
    with `ring`'s current master key. Raises ValueError for a value no configured key opens.

    Once everything opened, records that key as the current one, so a process still on
    replaced settings writes nothing with the retired key (KeyRing.check_may_wrap);
    a rotation that fails on a key it cannot open records nothing, so processes on the
    settings in use keep working."""
    stored = await rotate_store(storage.store, ring, store_swap(storage))
    inbox = await _rows(
        storage, "SELECT event_key, payload FROM bot_inbox WHERE payload IS NOT NULL"
    )
    resealed_inbox = 0
    for key, payload in inbox:
        value = _resealed_payload(ring, json.loads(payload))
        if value is not None:
            sql = "UPDATE bot_inbox SET payload = %s WHERE event_key = %s AND payload = %s"
            await _run(storage, sql, (json.dumps(value), key, payload))
            resealed_inbox += 1
    resealed = 0
    for table, kind, column in CHECKPOINT_COLUMNS[storage.kind]:
        where = _NOT_DATA_KEY.format(kind=kind, column=column)
        sql = f"SELECT thread_id, {kind}, {column} FROM {table} WHERE {where}"
        for thread, typ, blob in await _rows(storage, sql, (_DATA_KEY_TYPE, "empty")):
            serial, sealed, cipher = str(typ).partition("+")
            plaintext = ring.master_plaintext(cipher, bytes(blob)) if sealed else bytes(blob)
            if plaintext is None:
                continue
            ref = await ring.data_key(thread_owner(str(thread)))
            name, data = ring.seal_bytes_with(ref, plaintext)
            update = (
                f"UPDATE {table} SET {kind} = %s, {column} = %s"
                f" WHERE thread_id = %s AND {kind} = %s AND {column} = %s"
            )
            await _run(storage, update, (f"{serial}+{name}", data, thread, typ, blob))
            resealed += 1
    await ring.record_current()
    left = await still_needed(storage.store, ring) + await _old_elsewhere(storage, ring)
    return RotationReport(stored.keys, stored.values, resealed_inbox, resealed, left)


async def _old_elsewhere(storage: Storage, ring: KeyRing) -> int:
    """Inbox payloads and checkpoint values still sealed with an older master key (changed
    by another process between this rotation's read and its write)."""
    left = 0
    sql = "SELECT payload FROM bot_inbox WHERE payload IS NOT NULL"
    for (payload,) in await _rows(storage, sql):
        sealed = json.loads(payload).get(SEALED)
        left += not isinstance(sealed, str) or not ring.is_current(sealed.partition(":")[0])
    for table, kind, column in CHECKPOINT_COLUMNS[storage.kind]:
        where = _NOT_DATA_KEY.format(kind=kind, column=column)
        sql = f"SELECT count(*) FROM {table} WHERE {where}"
        [(count,)] = await _rows(storage, sql, (_DATA_KEY_TYPE, "empty"))
        left += int(count)
    return left


# Checkpoint values not sealed with a data key (plain, or sealed with a master key); LangGraph
# stores a channel without a value as type "empty" with no bytes.
_NOT_DATA_KEY = "{kind} NOT LIKE %s AND {kind} <> %s AND {column} IS NOT NULL"
_DATA_KEY_TYPE = "%+dk1-%"


def _resealed_payload(ring: KeyRing, value: dict[str, Any]) -> dict[str, Any] | None:
    """An inbox payload sealed with the current master key: one written before a key was set
    (whose author the row does not name), or sealed with an older master key; None when it
    needs nothing."""
    if not isinstance(value.get(SEALED), str):
        return ring.seal(value)
    return ring.reseal_value(value)


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
