"""Opening storage: Postgres with DATABASE_URL, otherwise SQLite files under the data dir."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import psycopg
import psycopg.conninfo
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.store.base import BaseStore
from langgraph.store.postgres.aio import AsyncPostgresStore
from langgraph.store.sqlite.aio import AsyncSqliteStore
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from bot.inbox import PostgresInbox, SqliteInbox
from bot.locks import PostgresUserLocks
from bot.pruning import SqlitePruner
from memory import (
    CheckpointPruner,
    ConfigurationError,
    Inbox,
    KeyRing,
    LocalUserLocks,
    SaverPruner,
    Sealer,
    ThreadSealing,
    UserLocks,
    ValueSwap,
)

log = logging.getLogger(__name__)

SETUP_LOCK = 7_419_001  # an advisory lock id of our own, held while migrating
TRY_LOCK = "SELECT pg_try_advisory_lock(%s) AS locked"
# Users whose memory one process learns at the same time (each holds a lock connection).
LEARNING_SLOTS = 4
# /healthz must answer within a second whatever the database does (a load balancer's probe).
PING_SECONDS = 0.5  # leaves room for the rest of the request on a loaded machine


class SealedPostgresSaver(ThreadSealing, AsyncPostgresSaver):
    """Each conversation sealed with a data key of its own (see memory.storage.checkpoints)."""


class SealedSqliteSaver(ThreadSealing, AsyncSqliteSaver):
    """Each conversation sealed with a data key of its own (see memory.storage.checkpoints)."""


def _saver(kind: type[Any], sealed: type[Any], sealer: Sealer | None, *args: Any, **kw: Any) -> Any:
    """The saver of `kind`, or its `sealed` variant over the KeyRing `sealer`."""
    if not isinstance(sealer, KeyRing):
        return kind(*args, **kw)
    saver = sealed(*args, **kw)
    saver.keyring = sealer
    return saver


@dataclass
class Storage:
    """Opened storage (memory.storage.bundle.StorageBundle, plus the inbox and health for the bot).

    `kind` is "postgres" or "sqlite"; `pool` is the PostgreSQL pool, None on SQLite.
    """

    checkpointer: BaseCheckpointSaver[Any]
    store: BaseStore
    locks: UserLocks
    inbox: Inbox
    kind: str
    pruner: CheckpointPruner
    pool: AsyncConnectionPool[Any] | None = None
    # SQLite connections whose write-ahead log is folded back after an erasure.
    sqlite_connections: tuple[Any, ...] = ()

    async def compact(self) -> None:
        """After an erasure: SQLite moves its write-ahead log into the database files (where
        secure_delete has overwritten deleted rows) and empties it, so forgotten text does not
        wait in the WAL for the next automatic checkpoint. PostgreSQL: nothing to do here
        (its WAL and dead row versions are the server's; see the README)."""
        for conn in self.sqlite_connections:
            try:
                await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except Exception:
                log.warning("could not checkpoint a SQLite write-ahead log", exc_info=True)

    async def ping(self, within: float = PING_SECONDS) -> str | None:
        """None when the database answers within `within` seconds, else why not (for
        /healthz): a short reason such as "timeout" or the error's type, never a message."""
        try:
            async with asyncio.timeout(within):
                if self.pool is not None:
                    async with self.pool.connection(timeout=within) as conn:
                        await conn.execute("SELECT 1")
                else:
                    await self.store.aget(("health",), "ping")
            return None
        except TimeoutError:
            return "timeout"
        except Exception as exc:
            return type(exc).__name__


@asynccontextmanager
async def open_storage(
    database_url: str,
    data_dir: Path,
    pool_size: int = 10,
    serde: SerializerProtocol | None = None,
    sealer: Sealer | None = None,
) -> AsyncIterator[Storage]:
    """`sealer` seals what the inbox keeps of unanswered events; a KeyRing also seals memory
    and each conversation with data keys of their own, kept in the store. `serde` replaces
    the checkpoint serializer (for a KeyRing, an EncryptedSerializer over it by default)."""
    if isinstance(sealer, KeyRing) and serde is None:
        serde = EncryptedSerializer(sealer)
    if database_url:
        async with _postgres(database_url, pool_size, serde, sealer) as storage:
            yield storage
    else:
        async with _sqlite(data_dir, serde, sealer) as storage:
            yield storage


# A server that answers at all answers a connection within this; a wrong host may not.
CONNECT_SECONDS = 5


async def check_database(url: str) -> None:
    """Connect once before any pool exists: a wrong port, database, role or password is a
    ConfigurationError with one line naming DATABASE_URL and the server's reason, within
    seconds, instead of a pool retrying for its whole timeout. The URL's password is never
    part of the message."""
    try:
        conn = await psycopg.AsyncConnection.connect(url, connect_timeout=CONNECT_SECONDS)
    except (psycopg.Error, OSError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ConfigurationError(
            f"DATABASE_URL: cannot connect to {database_label(url)}: {reason[:300]}"
        ) from None
    await conn.close()


def database_label(url: str) -> str:
    """host:port/database of a DATABASE_URL, without the user's password."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "the server (the URL could not be read)"
    host, port = info.get("host", "localhost"), info.get("port", "5432")
    return f"{host}:{port}/{info.get('dbname', '')}"


@asynccontextmanager
async def _postgres(
    url: str, pool_size: int, serde: SerializerProtocol | None, sealer: Sealer | None
) -> AsyncIterator[Storage]:
    await check_database(url)
    # autocommit is required by setup(); prepare_threshold=0 prepares every statement at once, as
    # the LangGraph savers expect (behind pgbouncer in transaction mode, set it to None instead).
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=pool_size,
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        check=_check_if_idle,
        reset=_mark_returned,
    )
    # Advisory locks are held while a user's memory is learned (a model call): a pool of
    # their own, so learning never starves replies of connections.
    lock_pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=LEARNING_SLOTS,
        open=False,
        kwargs={"autocommit": True},
        check=_check_if_idle,
        reset=_mark_returned,
    )
    await pool.open(wait=True)
    await lock_pool.open(wait=True)
    try:
        checkpointer = _saver(AsyncPostgresSaver, SealedPostgresSaver, sealer, pool, serde=serde)
        store = AsyncPostgresStore(pool)  # type: ignore[arg-type]
        if isinstance(sealer, KeyRing):
            sealer.attach(store)
        inbox = PostgresInbox(pool, sealer)
        # Processes starting together on a fresh database would race on the migrations.
        async with pool.connection() as conn:
            await _take_setup_lock(conn)
            try:
                await checkpointer.setup()
                await store.setup()
                await inbox.setup()
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))
        locks = PostgresUserLocks(lock_pool, slots=LEARNING_SLOTS)
        storage = Storage(
            checkpointer, store, locks, inbox, "postgres", SaverPruner(checkpointer), pool
        )
        if isinstance(sealer, KeyRing):
            sealer.swap = store_swap(storage)
        yield storage
    finally:
        await lock_pool.close()
        await pool.close()


# When each pooled connection was last handed back, to test only those idle for a while.
_returned_at: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
IDLE_CHECK_SECONDS = 2.0


async def _mark_returned(conn: Any) -> None:
    _returned_at[conn] = time.monotonic()


async def _check_if_idle(conn: Any) -> None:
    """A database restart costs a reconnect, not a failed reply per pooled connection: a
    connection idle for a while is tested before it is handed out. One used a moment ago is
    not, which saves a round trip on most checkouts."""
    if time.monotonic() - _returned_at.get(conn, 0.0) > IDLE_CHECK_SECONDS:
        await AsyncConnectionPool.check_connection(conn)


async def _take_setup_lock(conn: Any) -> None:
    """Polled, not waited on: a session blocked in pg_advisory_lock holds a snapshot, and the
    migrations' CREATE INDEX CONCURRENTLY in another process would wait for it forever."""
    for _attempt in itertools.count():
        row = await (await conn.execute(TRY_LOCK, (SETUP_LOCK,))).fetchone()
        if row and row["locked"]:
            return
        await asyncio.sleep(0.1)


@asynccontextmanager
async def _sqlite(
    data_dir: Path, serde: SerializerProtocol | None, sealer: Sealer | None
) -> AsyncIterator[Storage]:
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    # Two files: one shared file fails under concurrency with "database is locked".
    checkpoints = await aiosqlite.connect(data_dir / "checkpoints.sqlite")
    # The store manages its own transactions (BEGIN/COMMIT), so autocommit mode.
    memory = await aiosqlite.connect(data_dir / "memory.sqlite", isolation_level=None)
    # The inbox has a file of its own: a store transaction's rollback must not undo it, and
    # two writers on one SQLite file fail with "database is locked" when a read transaction
    # of one must become a write after the other wrote (WAL snapshots are not upgraded).
    inbox_conn = await aiosqlite.connect(data_dir / "inbox.sqlite", isolation_level=None)
    try:
        for conn in (checkpoints, memory, inbox_conn):
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA busy_timeout=5000")
            # Deleted rows are overwritten on disk, so forgotten text does not linger in free pages.
            await conn.execute("PRAGMA secure_delete=ON")
        checkpointer = _saver(AsyncSqliteSaver, SealedSqliteSaver, sealer, checkpoints, serde=serde)
        store = AsyncSqliteStore(memory)
        if isinstance(sealer, KeyRing):
            sealer.attach(store)
        await checkpointer.setup()
        await store.setup()
        inbox = SqliteInbox(inbox_conn, sealer)
        await inbox.setup()
        connections = (checkpoints, memory, inbox_conn)
        pruner = SqlitePruner(checkpointer.conn, checkpointer.lock)
        storage = Storage(
            checkpointer, store, LocalUserLocks(), inbox, "sqlite", pruner, None, connections
        )
        if isinstance(sealer, KeyRing):
            sealer.swap = store_swap(storage)
        yield storage
    finally:
        await checkpoints.close()
        await memory.close()
        await inbox_conn.close()


def store_swap(storage: Storage) -> ValueSwap:
    """Compare-and-swap on the LangGraph store's table (`store`: prefix, key, value), which
    the store API lacks: a row deleted meanwhile (a data key forget all destroyed) is not
    written back, and a row rewritten meanwhile is not overwritten."""

    async def postgres(
        namespace: tuple[str, ...], key: str, old: dict[str, Any], new: dict[str, Any]
    ) -> bool:
        assert storage.pool is not None
        async with storage.pool.connection() as conn:
            cursor = await conn.execute(
                "UPDATE store SET value = %s, updated_at = CURRENT_TIMESTAMP"
                " WHERE prefix = %s AND key = %s AND value = %s",
                (Jsonb(new), ".".join(namespace), key, Jsonb(old)),
            )
            return bool(cursor.rowcount == 1)

    async def sqlite(
        namespace: tuple[str, ...], key: str, old: dict[str, Any], new: dict[str, Any]
    ) -> bool:
        conn = storage.sqlite_connections[1]  # the store's (autocommit)
        where = (".".join(namespace), key)
        # The store's own lock, as its transactions share this connection; BEGIN IMMEDIATE
        # holds the file's write lock from the read to the write, against other processes.
        async with storage.store.lock:  # type: ignore[attr-defined]
            await conn.execute("BEGIN IMMEDIATE")
            try:
                cursor = await conn.execute(
                    "SELECT value FROM store WHERE prefix = ? AND key = ?", where
                )
                row = await cursor.fetchone()
                if row is None or json.loads(row[0]) != old:
                    return False
                await conn.execute(
                    "UPDATE store SET value = ?, updated_at = CURRENT_TIMESTAMP"
                    " WHERE prefix = ? AND key = ?",
                    (json.dumps(new), *where),
                )
                return True
            finally:
                await conn.execute("COMMIT")

    return postgres if storage.pool is not None else sqlite
