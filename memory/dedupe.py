"""Seen-event log: a redelivered platform event is handled once, across processes.

Backed by a small table of our own because the LangGraph store has no atomic insert-if-absent.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Protocol

RETENTION_SECONDS = 24 * 3600
_CREATE = (
    "CREATE TABLE IF NOT EXISTS bot_seen_events ("
    " event_key TEXT PRIMARY KEY, seen_at DOUBLE PRECISION NOT NULL)"
)


class SeenEvents(Protocol):
    async def first_time(self, event_key: str) -> bool:
        """True exactly once per key (within the retention window)."""


class MemorySeenEvents:
    """In-process only: for tests and single-process runs."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    async def first_time(self, event_key: str) -> bool:
        if event_key in self._seen:
            return False
        self._seen[event_key] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True


class PostgresSeenEvents:
    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._inserts = 0

    async def setup(self) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(_CREATE)

    async def first_time(self, event_key: str) -> bool:
        now = time.time()
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "INSERT INTO bot_seen_events (event_key, seen_at) VALUES (%s, %s)"
                " ON CONFLICT (event_key) DO NOTHING",
                (event_key, now),
            )
            fresh = int(cursor.rowcount) == 1
            self._inserts += 1
            if self._inserts % 1000 == 0:
                await conn.execute(
                    "DELETE FROM bot_seen_events WHERE seen_at < %s", (now - RETENTION_SECONDS,)
                )
        return fresh


class SqliteSeenEvents:
    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._inserts = 0

    async def setup(self) -> None:
        await self._conn.execute(_CREATE)

    async def first_time(self, event_key: str) -> bool:
        now = time.time()
        cursor = await self._conn.execute(
            "INSERT OR IGNORE INTO bot_seen_events (event_key, seen_at) VALUES (?, ?)",
            (event_key, now),
        )
        fresh = int(cursor.rowcount) == 1
        self._inserts += 1
        if self._inserts % 1000 == 0:
            await self._conn.execute(
                "DELETE FROM bot_seen_events WHERE seen_at < ?", (now - RETENTION_SECONDS,)
            )
        return fresh
