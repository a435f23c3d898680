"""Threads the bot has answered in, kept in the shared store so every process knows them.

A message in such a thread continues the conversation without a new @mention.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cachetools import LRUCache
from langgraph.store.base import BaseStore

NAMESPACE = ("adapters", "slack", "threads")


class AnsweredThreads:
    """The store is the truth; a bounded in-process cache saves a read per follow-up.

    The cache holds at most `cache_size` thread keys and forgets the oldest first.
    """

    def __init__(self, store: BaseStore, *, cache_size: int = 10_000) -> None:
        self._store = store
        # Conversation keys known to be answered in, least recently used dropped first.
        self._known: LRUCache[str, bool] = LRUCache(maxsize=cache_size)

    async def mark(self, conversation_key: str) -> None:
        """Record that the bot answers in this thread (a ConversationRef key): one store
        write, none when this process already knows it. Store errors propagate."""
        if conversation_key in self._known:
            return
        value = {"since": datetime.now(UTC).isoformat()}
        await self._store.aput(NAMESPACE, conversation_key, value, index=False)
        self._known[conversation_key] = True

    async def answered(self, conversation_key: str) -> bool:
        """Whether the bot has answered in this thread, in any process: from the cache, else
        one store read (a hit is cached; a miss is not, another process may mark it)."""
        if self._known.get(conversation_key):  # a hit counts as a use
            return True
        found = await self._store.aget(NAMESPACE, conversation_key) is not None
        if found:
            self._known[conversation_key] = True
        return found
