"""What every benchmark shares: a database of its own, and size, CPU and statement probes."""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sqlite3
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
from langchain_core.language_models import BaseChatModel

from bot.storage import Storage
from memory.engine import EngineConfig, MemoryEngine
from memory.storage.locks import UserLocks

ADMIN_URL = os.environ.get("BENCH_POSTGRES_ADMIN_URL") or os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BACKENDS = ("postgres", "sqlite")


def add_backend_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend", choices=BACKENDS, default="postgres", help="storage (default: postgres)"
    )


def add_load_arguments(
    parser: argparse.ArgumentParser, *, users: int, messages: int, latency_ms: float
) -> None:
    """The workload's shape, shared by the scripts that drive many users at once."""
    parser.add_argument("--users", type=int, default=users)
    parser.add_argument("--messages", type=int, default=messages, help="messages per user")
    parser.add_argument("--concurrency", type=int, default=users)
    parser.add_argument("--latency-ms", type=float, default=latency_ms, help="scripted LLM latency")
    parser.add_argument("--pool-size", type=int, default=10, help="Postgres pool (bot default)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")


def add_lock_slots_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lock-slots",
        type=int,
        default=0,
        help="hold at most this many user locks at once (0: the engine as shipped); "
        "see BoundedUserLocks",
    )


class BoundedUserLocks:
    """At most `slots` user locks held at once, waiting *before* the inner lock is taken.

    PostgresUserLocks holds a pool connection for as long as a lock is held (a session
    advisory lock), and the learning done under it needs further connections from the same
    pool. When as many users learn at once as the pool has connections, every connection is
    held by a lock and the work inside waits for one until psycopg_pool's 30 s timeout. With
    fewer slots than connections that cannot happen. This is the proposed fix, applied from
    outside so the benchmark can show its effect (see bench/README.md).
    """

    def __init__(self, inner: UserLocks, slots: int) -> None:
        self._inner = inner
        self._slots = asyncio.Semaphore(slots)

    @asynccontextmanager
    async def hold(self, user_key: str) -> AsyncIterator[None]:
        async with self._slots, self._inner.hold(user_key):
            yield


def user_locks(inner: UserLocks, slots: int) -> UserLocks:
    return BoundedUserLocks(inner, slots) if slots > 0 else inner


def engine_on(
    storage: Storage,
    model: BaseChatModel,
    config: EngineConfig | None = None,
    lock_slots: int = 0,
    **options: Any,
) -> MemoryEngine:
    """An engine on opened storage, built as bot/engine.py builds one (`options`: e.g.
    semantic); `lock_slots` > 0 bounds how many users learn at once (see user_locks)."""
    if lock_slots > 0:
        storage = replace(storage, locks=user_locks(storage.locks, lock_slots))
    return MemoryEngine.on(storage, model=model, config=config, **options)


# --- the database under test -------------------------------------------------------------


@dataclass
class BenchDatabase:
    """A PostgreSQL database (created for this run, dropped after) or a SQLite data dir."""

    backend: str
    url: str  # "" for SQLite, which open_storage() takes to mean "files under data_dir"
    data_dir: Path

    async def _pg(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self.url, autocommit=True)

    async def size_bytes(self) -> int:
        """On disk now: tables, indexes and TOAST (Postgres) or the files and WAL (SQLite)."""
        if self.backend == "sqlite":
            return _sqlite_files_size(self.data_dir)
        async with await self._pg() as conn:
            cur = await conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm')"
            )
            row = await cur.fetchone()
            return int(row[0]) if row else 0

    async def table_bytes(self) -> dict[str, int]:
        """Bytes per table with its indexes and TOAST (Postgres) or per database file (SQLite)."""
        if self.backend == "sqlite":
            return {
                p.name: p.stat().st_size
                for p in sorted(self.data_dir.glob("*.sqlite*"))
                if not p.name.endswith("-shm")
            }
        async with await self._pg() as conn:
            cur = await conn.execute(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm')"
            )
            return {str(r[0]): int(r[1]) for r in await cur.fetchall()}

    async def transactions(self) -> int | None:
        """Transactions this database has run (each autocommit statement is one); Postgres only."""
        if self.backend == "sqlite":
            return None
        async with await self._pg() as conn:
            cur = await conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database "
                "WHERE datname = current_database()"
            )
            row = await cur.fetchone()
            return int(row[0]) if row else None

    async def compact_bytes(self) -> int:
        """Live data only: VACUUM FULL (Postgres) or checkpoint + VACUUM (SQLite), then measure."""
        if self.backend == "sqlite":
            await asyncio.to_thread(_sqlite_compact, self.data_dir)
            return _sqlite_files_size(self.data_dir)
        async with await self._pg() as conn:
            await conn.execute("VACUUM FULL")
        return await self.size_bytes()

    async def thread_bytes(self, thread_id: str) -> tuple[int, int]:
        """Checkpoint bytes and rows kept for one thread (checkpoints, blobs and writes)."""
        if self.backend == "sqlite":
            return await asyncio.to_thread(_sqlite_thread_bytes, self.data_dir, thread_id)
        queries = (
            "SELECT coalesce(sum(octet_length(checkpoint::text)"
            " + octet_length(metadata::text)), 0), count(*) FROM checkpoints WHERE thread_id = %s",
            "SELECT coalesce(sum(octet_length(blob)), 0), count(*) FROM checkpoint_blobs "
            "WHERE thread_id = %s",
            "SELECT coalesce(sum(octet_length(blob)), 0), count(*) FROM checkpoint_writes "
            "WHERE thread_id = %s",
        )
        size = rows = 0
        async with await self._pg() as conn:
            for query in queries:
                cur = await conn.execute(query, (thread_id,))
                found = await cur.fetchone()
                if found:
                    size += int(found[0])
                    rows += int(found[1])
        return size, rows

    async def backend_pids(self) -> list[int]:
        """The PostgreSQL server processes serving this database (empty for SQLite)."""
        if self.backend == "sqlite":
            return []
        async with await self._pg() as conn:
            cur = await conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            return [int(r[0]) for r in await cur.fetchall()]


def _sqlite_files_size(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.glob("*.sqlite*") if not p.name.endswith("-shm"))


def _sqlite_compact(data_dir: Path) -> None:
    for path in data_dir.glob("*.sqlite"):
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()


def _sqlite_thread_bytes(data_dir: Path, thread_id: str) -> tuple[int, int]:
    conn = sqlite3.connect(data_dir / "checkpoints.sqlite")
    try:
        size = rows = 0
        for query in (
            "SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0), count(*) "
            "FROM checkpoints WHERE thread_id = ?",
            "SELECT coalesce(sum(length(value)), 0), count(*) FROM writes WHERE thread_id = ?",
        ):
            found = conn.execute(query, (thread_id,)).fetchone()
            size += int(found[0])
            rows += int(found[1])
        return size, rows
    finally:
        conn.close()


@asynccontextmanager
async def bench_database(backend: str) -> AsyncIterator[BenchDatabase]:
    """A fresh database for one measurement, removed afterwards whatever happens."""
    with tempfile.TemporaryDirectory(prefix="bench_") as tmp:
        data_dir = Path(tmp) / "data"
        if backend == "sqlite":
            yield BenchDatabase("sqlite", "", data_dir)
            return
        name = f"bench_{uuid.uuid4().hex[:12]}"
        async with await psycopg.AsyncConnection.connect(ADMIN_URL, autocommit=True) as conn:
            await conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield BenchDatabase("postgres", ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", data_dir)
        finally:
            async with await psycopg.AsyncConnection.connect(ADMIN_URL, autocommit=True) as conn:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def release_store(store: Any) -> None:
    """Stop a batched store's background task now, while the loop runs.

    Left to garbage collection, it is cancelled too late when several storages are opened in
    one event loop and asyncio prints "Task was destroyed but it is pending!".
    """
    task = getattr(store, "_task", None)
    if isinstance(task, asyncio.Task) and not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# --- CPU and memory probes ---------------------------------------------------------------


def process_cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """User + system CPU seconds of other processes (the PostgreSQL backends), from /proc."""
    found: dict[int, float] = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        found[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two samples; a process first seen in `after` started in between."""
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())


def machine_line() -> str:
    """Cores and load: benchmarks on a shared machine are only comparable within one run."""
    one, five, fifteen = os.getloadavg()
    return f"machine: {os.cpu_count()} cores, load average {one:.2f} {five:.2f} {fifteen:.2f}"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- statements ----------------------------------------------------------------------------


class StatementCounter:
    """Counts the SQL statements this process sends through psycopg, by their first words.

    A diagnostic (`--queries`): it patches psycopg's async cursor for the life of the process.
    The pool's connection check shows up as the empty statement "".
    """

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def install(self) -> None:
        cursor = psycopg.AsyncCursor
        original_execute = cursor.execute
        original_many = cursor.executemany
        counts = self.counts

        async def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            counts[_statement_label(query)] += 1
            return await original_execute(self, query, *args, **kwargs)

        async def executemany(self: Any, query: Any, params: Any, *args: Any, **kwargs: Any) -> Any:
            params = list(params)
            counts[_statement_label(query)] += len(params)
            return await original_many(self, query, params, *args, **kwargs)

        cursor.execute = execute  # type: ignore[method-assign]
        cursor.executemany = executemany  # type: ignore[method-assign]


def _statement_label(query: Any) -> str:
    text = query if isinstance(query, str) else getattr(query, "as_string", lambda: str(query))()
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return '"' + " ".join(str(text).split())[:90] + '"'
