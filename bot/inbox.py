"""The durable inbox (memory.intake.inbox.Inbox) in PostgreSQL and SQLite: one table, `bot_inbox`.

Payloads hold what people wrote, so they are sealed when a key is set (with a key ring, with
a data key of the author's account, which forget all destroys; with the master key when the
author is not known) and dropped as soon as an entry is done.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from psycopg.rows import tuple_row

from memory import (
    InboxEntry,
    InboxState,
    KeyGone,
    KeyRing,
    KeyUnavailable,
    PlainSealer,
    Sealer,
    inbox_owner,
)

log = logging.getLogger(__name__)

CREATE = (
    "CREATE TABLE IF NOT EXISTS bot_inbox ("
    " event_key TEXT PRIMARY KEY,"
    " state TEXT NOT NULL,"
    " payload TEXT,"
    " received_at DOUBLE PRECISION NOT NULL,"
    " owner TEXT,"
    " lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " done_at DOUBLE PRECISION)"
)
# Only unfinished entries are ever scanned; a partial index keeps that cheap as done ones pile up.
CREATE_INDEX = (
    "CREATE INDEX IF NOT EXISTS bot_inbox_open ON bot_inbox (received_at) WHERE state <> 'done'"
)

# Written with %s placeholders (psycopg); SQLite gets them as ? (SqliteInbox._run).
INSERT = (
    "INSERT INTO bot_inbox (event_key, state, payload, received_at) VALUES (%s, 'received', %s, %s)"
    " ON CONFLICT (event_key) DO NOTHING"
)
STATE = "SELECT state FROM bot_inbox WHERE event_key = %s"
CLAIM = (
    "UPDATE bot_inbox SET state = 'claimed', owner = %s, lease_until = %s,"
    " attempts = attempts + 1 WHERE event_key = %s"
    " AND (state = 'received' OR (state = 'claimed' AND lease_until < %s))"
)
RENEW = "UPDATE bot_inbox SET lease_until = %s WHERE owner = %s AND state = 'claimed'"
RELEASE = (
    "UPDATE bot_inbox SET state = 'received', owner = NULL, lease_until = 0"
    " WHERE event_key = %s AND owner = %s AND state = 'claimed'"
)
FINISH = "UPDATE bot_inbox SET state = 'done', payload = NULL, done_at = %s WHERE event_key = %s"
UNFINISHED = (
    "SELECT event_key, state, payload, received_at, owner, lease_until, attempts FROM bot_inbox"
    " WHERE state <> 'done' AND substr(event_key, 1, %s) = %s"
    " AND ((state = 'received' AND received_at < %s) OR (state = 'claimed' AND lease_until < %s))"
    " ORDER BY received_at LIMIT %s"
)
PRUNE = "DELETE FROM bot_inbox WHERE state = 'done' AND done_at < %s"
KEYS_SINCE = (
    "SELECT event_key FROM bot_inbox WHERE substr(event_key, 1, %s) = %s AND received_at >= %s"
    " ORDER BY received_at DESC LIMIT %s"
)


class _Payloads:
    """Payload dicts to stored text and back, sealed when a key is configured."""

    def __init__(self, sealer: Sealer | None) -> None:
        self._sealer: Sealer = sealer or PlainSealer()

    async def dump(self, payload: dict[str, Any], author: str | None = None) -> str:
        if isinstance(self._sealer, KeyRing) and author:
            ref = await self._sealer.data_key(inbox_owner(author))
            return json.dumps(self._sealer.seal_with(ref, payload))
        if isinstance(self._sealer, KeyRing):
            # Under the master key itself: refused on settings rotate-key replaced (the event
            # is not acknowledged, so the platform sends it again, to a current process).
            await self._sealer.check_may_wrap()
        return json.dumps(self._sealer.seal(payload))

    async def entry(self, row: Any) -> InboxEntry | None:
        """The entry of a row; None when its payload's key was destroyed (its author was
        forgotten: nothing of it can be answered)."""
        key, state, payload, received_at, owner, lease_until, attempts = row
        opened = None
        if payload:
            value = json.loads(payload)
            if isinstance(self._sealer, KeyRing):
                await self._sealer.ready([value])
            try:
                opened = self._sealer.open(value)
            except KeyGone:
                return None
        return InboxEntry(
            key=str(key),
            state=state,
            payload=opened,
            received_at=float(received_at),
            owner=owner,
            lease_until=float(lease_until),
            attempts=int(attempts),
        )


class _SqlInbox(_Payloads):
    """The inbox's logic on a backend that runs one statement: `_run` -> (rowcount, rows)."""

    async def _run(self, sql: str, args: tuple[Any, ...]) -> tuple[int, list[Any]]:
        raise NotImplementedError

    async def setup(self) -> None:
        for sql in (CREATE, CREATE_INDEX):
            await self._run(sql, ())

    async def record(
        self, key: str, payload: dict[str, Any], author: str | None = None
    ) -> InboxState:
        sealed = await self.dump(payload, author)
        inserted, _ = await self._run(INSERT, (key, sealed, time.time()))
        if inserted == 1:
            return "received"
        _, rows = await self._run(STATE, (key,))
        return rows[0][0] if rows else "received"

    async def claim(self, key: str, owner: str, lease_seconds: float) -> bool:
        now = time.time()
        taken, _ = await self._run(CLAIM, (owner, now + lease_seconds, key, now))
        return taken == 1

    async def renew(self, owner: str, lease_seconds: float) -> int:
        renewed, _ = await self._run(RENEW, (time.time() + lease_seconds, owner))
        return renewed

    async def release(self, key: str, owner: str) -> None:
        await self._run(RELEASE, (key, owner))

    async def finish(self, key: str) -> None:
        await self._run(FINISH, (time.time(), key))

    async def unfinished(self, prefix: str, older_than: float, limit: int) -> list[InboxEntry]:
        args = (len(prefix), prefix, older_than, time.time(), limit)
        _, rows = await self._run(UNFINISHED, args)
        entries = []
        for row in rows:
            try:
                entry = await self.entry(row)
            except KeyUnavailable as exc:
                # Left waiting for a process that holds the key; the others are answered.
                log.warning("an inbox event cannot be opened: %s", exc, extra={"event": row[0]})
                continue
            if entry is None:
                await self.finish(str(row[0]))  # forgotten: never answered
            else:
                entries.append(entry)
        return entries

    async def prune(self, before: float) -> int:
        removed, _ = await self._run(PRUNE, (before,))
        return removed

    async def keys_since(self, prefix: str, since: float, limit: int) -> list[str]:
        _, rows = await self._run(KEYS_SINCE, (len(prefix), prefix, since, limit))
        return [str(row[0]) for row in rows]


class PostgresInbox(_SqlInbox):
    """On the bot's psycopg pool. `timeout` (seconds) bounds the wait for a connection, so an
    unreachable database is an error within it instead of after the pool's 30 s."""

    def __init__(self, pool: Any, sealer: Sealer | None = None, timeout: float = 2.0) -> None:
        super().__init__(sealer)
        self._pool = pool
        self._timeout = timeout

    async def _run(self, sql: str, args: tuple[Any, ...]) -> tuple[int, list[Any]]:
        async with self._pool.connection(timeout=self._timeout) as conn:
            cursor = conn.cursor(row_factory=tuple_row)
            await cursor.execute(sql, args)
            rows = await cursor.fetchall() if cursor.description else []
            return int(cursor.rowcount), rows


class SqliteInbox(_SqlInbox):
    """On an aiosqlite connection of its own (autocommit): never inside the store's
    transactions, whose rollback would take a recorded event with it."""

    def __init__(self, conn: Any, sealer: Sealer | None = None) -> None:
        super().__init__(sealer)
        self._conn = conn

    async def _run(self, sql: str, args: tuple[Any, ...]) -> tuple[int, list[Any]]:
        cursor = await self._conn.execute(sql.replace("%s", "?"), args)
        rows = list(await cursor.fetchall()) if cursor.description else []
        return int(cursor.rowcount), rows
