"""Per-user write serialization: the interface, and the in-process (asyncio) implementation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol


class UserLocks(Protocol):
    """Serializes writes to one person's memory: within a process, and across processes when
    several share the database (the storage layer's implementation)."""

    def hold(self, user_key: str) -> Any:
        """An async context manager held while one user's memory is rewritten."""


class LocalUserLocks:
    """One asyncio lock per user, dropped when nobody waits on it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiters: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, user_key: str) -> AsyncIterator[None]:
        """Hold `user_key`'s lock for the body (waiting while another task holds it); the lock is
        dropped once nobody holds or waits on it."""
        lock = self._locks.setdefault(user_key, asyncio.Lock())
        self._waiters[user_key] = self._waiters.get(user_key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiters[user_key] -= 1
            if not self._waiters[user_key]:
                del self._waiters[user_key]
                del self._locks[user_key]
