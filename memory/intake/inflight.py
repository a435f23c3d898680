"""Work started for people (a reply being made, an answer being posted) and not yet finished.

The engine counts the replies it is making with it, and each adapter what it is answering and
posting; shutdown waits on `drained()` instead of guessing how long the last of it takes."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class InFlight:
    """A count of handlers running; `drained()` returns when it is zero."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        """Handlers running now."""
        return self._count

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Counts as in flight while the block runs (also when it raises or is cancelled)."""
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    def track(self, work: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        """`work` held in flight on every call. The wrapper keeps `work`'s signature
        (functools.wraps), which slack-bolt reads to choose the arguments it passes."""

        @functools.wraps(work)
        async def tracked(*args: P.args, **kwargs: P.kwargs) -> R:
            async with self.hold():
                return await work(*args, **kwargs)

        return tracked

    async def drained(self) -> None:
        """Return once nothing is in flight (at once when nothing is)."""
        await self._idle.wait()
