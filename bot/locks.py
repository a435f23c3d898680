"""Per-user locks across processes: PostgreSQL session advisory locks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from memory import LocalUserLocks


class PostgresUserLocks:
    """A session advisory lock per user, so two bot processes never interleave one user's writes.

    The lock is held across the model call, so its connection comes from a small pool of its
    own: learning can never take the connections that replies and the store need. The local
    lock comes first so a process holds at most one lock connection per user, and the slots
    semaphore keeps waiters from timing out inside the pool.
    """

    def __init__(self, lock_pool: Any, slots: int) -> None:
        self._pool = lock_pool
        self._local = LocalUserLocks()
        self._slots = asyncio.Semaphore(slots)

    @asynccontextmanager
    async def hold(self, user_key: str) -> AsyncIterator[None]:
        """Hold `user_key`'s lock for the body, across every process on the database: a session
        advisory lock on a connection of the lock pool (one of `slots` at most in this process),
        taken after this process's own lock for the user, so its tasks queue locally instead of
        holding connections."""
        async with self._local.hold(user_key), self._slots, self._pool.connection() as conn:
            await conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 7419))", (user_key,))
            try:
                yield
            finally:
                await conn.execute(
                    "SELECT pg_advisory_unlock(hashtextextended(%s, 7419))", (user_key,)
                )
