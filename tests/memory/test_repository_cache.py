"""The recall cache under concurrency: a write in the same process during a read is harmless."""

from __future__ import annotations

from typing import Any

from langgraph.store.memory import InMemoryStore

from memory.schemas import Provenance, StoredItem
from memory.storage.repository import MemoryRepository


def _fact(text: str) -> StoredItem:
    where = Provenance(platform="test", conversation="c", audience="dm")
    return StoredItem(kind="fact", data={"content": text}, provenance=where)


class WriteDuringRead(InMemoryStore):
    """A store whose revision read lets another task's write drop the cached memory."""

    repository: MemoryRepository | None = None

    async def aget(self, namespace: tuple[str, ...], key: str, **kwargs: Any) -> Any:
        found = await super().aget(namespace, key, **kwargs)
        if self.repository is not None and key == "revision":
            self.repository._memories.pop("test:alice", None)  # what a concurrent write does
        return found


async def test_a_write_during_a_cached_read_does_not_break_the_read() -> None:
    store = WriteDuringRead()
    repository = MemoryRepository(store)
    await repository.put("test:alice", "facts", "aaaaa", _fact("I keep bees"))
    first = await repository.load("test:alice")  # fills the cache
    store.repository = repository

    again = await repository.load("test:alice")

    assert again.facts.keys() == first.facts.keys() == {"aaaaa"}


async def test_a_write_makes_the_next_read_see_it() -> None:
    repository = MemoryRepository(InMemoryStore())
    await repository.put("test:alice", "facts", "aaaaa", _fact("I keep bees"))
    assert len((await repository.load("test:alice")).facts) == 1
    await repository.put("test:alice", "facts", "bbbbb", _fact("I ski"))
    await repository.set_paused("test:alice", True)
    memory = await repository.load("test:alice")
    assert len(memory.facts) == 2 and memory.paused
