"""Checkpoint pruning for the SQLite saver, which has no prune of its own."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)

# Checkpoint ids are time-ordered uuids, so "older" is "smaller id".
_KEEP_LATEST = (
    "DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id < "
    "(SELECT MAX(checkpoint_id) FROM checkpoints WHERE thread_id = ?)"
)


class SqlitePruner:
    """memory.storage.checkpoints.CheckpointPruner over the SQLite saver's connection and lock.

    `conn` is the saver's aiosqlite connection and `lock` the asyncio.Lock the saver holds
    around its own statements (AsyncSqliteSaver.conn / .lock), so a prune never interleaves
    with a checkpoint write.
    """

    def __init__(self, conn: Any, lock: asyncio.Lock) -> None:
        self._conn = conn
        self._lock = lock

    async def prune(self, thread_id: str) -> None:
        """Keep only the newest checkpoint of the thread; failures are logged, never raised."""
        try:
            async with self._lock:
                for table in ("writes", "checkpoints"):
                    await self._conn.execute(
                        _KEEP_LATEST.format(table=table), (thread_id, thread_id)
                    )
                await self._conn.commit()
        except Exception:
            log.warning("checkpoint prune failed", exc_info=True, extra={"thread": thread_id})
