"""Keeping conversation storage bounded: drop all but the latest checkpoint of a thread."""

from __future__ import annotations

import logging
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

log = logging.getLogger(__name__)

_SQLITE_KEEP_LATEST = (
    "DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id < "
    "(SELECT MAX(checkpoint_id) FROM checkpoints WHERE thread_id = ?)"
)


async def prune_thread(checkpointer: BaseCheckpointSaver[Any], thread_id: str) -> None:
    """Keep only the newest checkpoint; older ones hold nothing the bot still reads."""
    try:
        await checkpointer.aprune([thread_id], strategy="keep_latest")
        return
    except NotImplementedError:
        pass
    except Exception:
        # A concurrent prune of the same thread can fail to serialize; the next one will do.
        log.warning("checkpoint prune failed", exc_info=True, extra={"thread": thread_id})
        return
    conn = getattr(checkpointer, "conn", None)
    lock = getattr(checkpointer, "lock", None)
    if conn is None or lock is None:
        return
    # The SQLite saver has no prune of its own; checkpoint ids are time-ordered uuids.
    async with lock:
        for table in ("writes", "checkpoints"):
            await conn.execute(_SQLITE_KEEP_LATEST.format(table=table), (thread_id, thread_id))
        await conn.commit()
