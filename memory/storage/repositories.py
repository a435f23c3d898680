"""One MemoryRepository per store, so the agent graph uses whichever store runs it.

The graph's nodes take the store from the LangGraph runtime (`runtime.store`): the bot's own
store when the engine runs the graph, LangGraph Server's store when the server does.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from langgraph.store.base import BaseStore

from memory.errors import ConfigurationError
from memory.kinds import KindRegistry
from memory.storage.repository import MemoryRepository
from memory.storage.sealing import Sealer


class StoreRepositories:
    """Hands out the MemoryRepository for a store, built once per store (it caches reads).

    Stores are held weakly: a store the server drops takes its repository with it.
    """

    def __init__(self, sealer: Sealer | None = None, kinds: KindRegistry | None = None) -> None:
        self._sealer = sealer
        self._kinds = kinds
        self._by_store: WeakKeyDictionary[BaseStore, MemoryRepository] = WeakKeyDictionary()

    @classmethod
    def around(cls, repository: MemoryRepository) -> StoreRepositories:
        """Repositories that reuse `repository` for its own store (and its sealer for others)."""
        repositories = cls(repository.sealer, repository.kinds)
        repositories._by_store[repository.store] = repository
        return repositories

    def for_store(self, store: BaseStore | None) -> MemoryRepository:
        """The repository over `store`; raises ConfigurationError when the graph has none."""
        if store is None:
            raise ConfigurationError(
                "the agent graph needs a store: compile it with store=..., "
                "or run it under LangGraph Server, which gives it one"
            )
        repository = self._by_store.get(store)
        if repository is None:
            repository = self._by_store[store] = MemoryRepository(store, self._sealer, self._kinds)
        return repository
