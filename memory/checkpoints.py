"""Keeping conversation storage bounded: drop all but the latest checkpoint of a thread.

The core only states what it needs (`CheckpointPruner`); a backend whose saver has no prune
of its own (the SQLite saver) brings an implementation from the storage layer.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from langgraph.checkpoint.base import BaseCheckpointSaver

log = logging.getLogger(__name__)


class CheckpointPruner(Protocol):
    """Drops a conversation's older checkpoints, keeping the newest.

    Implementations never raise for a failed prune (a concurrent prune of the same thread can
    fail to serialize): the next prune does the work, and the caller must not lose a turn.
    """

    async def prune(self, thread_id: str) -> None:
        """Keep only the newest checkpoint of `thread_id` (a LangGraph thread id)."""


class SaverPruner:
    """Prunes through the saver's own `aprune(strategy="keep_latest")` (the PostgreSQL saver
    has one); a saver without it (raising NotImplementedError) is left as it is."""

    def __init__(self, checkpointer: BaseCheckpointSaver[Any]) -> None:
        self.checkpointer = checkpointer

    async def prune(self, thread_id: str) -> None:
        """See CheckpointPruner.prune; failures are logged at WARNING, never raised."""
        try:
            await self.checkpointer.aprune([thread_id], strategy="keep_latest")
        except NotImplementedError:
            pass
        except Exception:
            log.warning("checkpoint prune failed", exc_info=True, extra={"thread": thread_id})
