"""Finding every person of one workspace, for erasing a workspace's memories when it leaves."""

from __future__ import annotations

from langgraph.store.base import BaseStore

from memory.storage.namespaces import ROOT
from memory.storage.repository import KEPT_BY_FORGET_ALL

# Namespaces listed per call; a workspace with more people is erased over several listings.
LIST_LIMIT = 100_000


async def users_under(store: BaseStore, key_prefix: str) -> list[str]:
    """The keys of users with anything remembered whose key starts with `key_prefix`
    (e.g. "slack:T123:"). Raises ValueError for an empty prefix: never "everyone".

    A person whose only row is the erasure marker (kept by forget all) is not listed.
    """
    if not key_prefix:
        raise ValueError("a workspace prefix is required")
    namespaces = await store.alist_namespaces(prefix=(ROOT,), max_depth=3, limit=LIST_LIMIT)
    return sorted(
        {
            ns[1]
            for ns in namespaces
            if len(ns) == 3 and ns[1].startswith(key_prefix) and ns[2] != KEPT_BY_FORGET_ALL
        }
    )
