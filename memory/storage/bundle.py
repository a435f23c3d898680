"""What the engine needs from storage, as one bundle the storage layer provides.

The core holds no backend code: PostgreSQL and SQLite each implement these in the storage
layer (bot.storage), and the engine is built from a bundle with `MemoryEngine.on`.
"""

from __future__ import annotations

from typing import Any, Protocol

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore

from memory.storage.checkpoints import CheckpointPruner
from memory.storage.locks import UserLocks


class StorageBundle(Protocol):
    """Opened storage: the LangGraph store (memory) and checkpointer (conversations), the
    per-user locks, checkpoint pruning, and what runs after an erasure."""

    @property
    def store(self) -> BaseStore:
        """Each person's memory (LangGraph Store)."""

    @property
    def checkpointer(self) -> BaseCheckpointSaver[Any]:
        """Each conversation's state (LangGraph checkpointer)."""

    @property
    def locks(self) -> UserLocks:
        """Per-user write locks (across processes where the backend is shared)."""

    @property
    def pruner(self) -> CheckpointPruner:
        """Drops a conversation's older checkpoints."""

    async def compact(self) -> None:
        """Runs after every erasure: folds away deleted bytes a backend keeps in a log of
        its own (SQLite's write-ahead log). Never raises."""
