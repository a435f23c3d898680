"""Conversation storage: keeping it bounded (drop all but the latest checkpoint of a thread),
and sealing each conversation with a data key of its own (ThreadSealing).

The core only states what pruning needs (`CheckpointPruner`); a backend whose saver has no
prune of its own (the SQLite saver) brings an implementation from the storage layer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)

from memory.storage.sealing import KeyGone, KeyNotLoaded, KeyRing, sealing_with, thread_owner

log = logging.getLogger(__name__)
T = TypeVar("T")
# Data keys one read may need (a checkpoint and its pending writes are sealed with one key;
# more only right after a re-key): reading stops with KeyNotLoaded past this many loads.
MAX_KEY_LOADS = 16


class ThreadSealing(BaseCheckpointSaver[Any]):
    """Put before a LangGraph async saver whose serializer is an EncryptedSerializer over
    `keyring` (`class S(ThreadSealing, AsyncSqliteSaver)`, then set `keyring`): everything
    written for a thread is sealed with that conversation's data key, read from the store
    first; reads load the data keys their blobs name. Deleting a thread destroys its keys,
    so copies of its checkpoints left anywhere open no more.

    A checkpoint whose key was destroyed reads as no checkpoint (the thread starts afresh).
    """

    keyring: KeyRing

    async def _loading(self, read: Callable[[], Awaitable[T]]) -> T:
        for _ in range(MAX_KEY_LOADS):
            try:
                return await read()
            except KeyNotLoaded as missing:
                await self.keyring.load([missing.ref])
        return await read()

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The latest (or the configured) checkpoint of a thread, its data keys loaded first; None
        when there is none or its conversation's key was destroyed (the thread then starts afresh).
        Raises KeyNotLoaded past MAX_KEY_LOADS key loads."""
        read = super().aget_tuple
        try:
            return await self._loading(lambda: read(config))
        except KeyGone:
            return None

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """The saver's checkpoints matching `config`, `filter` and `before` (at most `limit`), with
        every data key they name loaded before the first is yielded (the listing is collected whole,
        so a retry after a key load starts it again)."""
        listing = super().alist

        async def collect() -> list[CheckpointTuple]:
            listed = listing(config, filter=filter, before=before, limit=limit)
            return [item async for item in listed]

        # Collected before yielding: a retry after loading a key starts the listing again.
        for item in await self._loading(collect):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint sealed with its conversation's own data key (made and kept in the
        store on the thread's first write, see memory.storage.sealing.KeyRing.data_key); returns the
        saver's config for it."""
        ref = await self.keyring.data_key(thread_owner(_thread(config)))
        with sealing_with(ref):
            return await super().aput(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's pending writes, sealed with the data key of the thread's checkpoints."""
        ref = await self.keyring.data_key(thread_owner(_thread(config)))
        with sealing_with(ref):
            await super().aput_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete the thread's checkpoints, then destroy the conversation's data keys, so copies
        of them kept anywhere else (backups, a write-ahead log) can no longer be opened."""
        await super().adelete_thread(thread_id)
        await self.keyring.shred(thread_owner(thread_id))


def _thread(config: RunnableConfig) -> str:
    return str(config["configurable"]["thread_id"])


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
