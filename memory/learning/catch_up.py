"""Reading memory that is current: learn what is pending for the person first, within a bound.

`/memory show` right after telling the bot something should list it, without waiting for the
quiet period that batches learning. The model may be slow, so the wait is bounded; learning
goes on in the background and the caller says how many messages it is still learning from.
"""

from __future__ import annotations

import asyncio

from memory.learning.scheduler import ExtractionScheduler
from memory.storage.repository import MemoryRepository


async def catch_up(
    repository: MemoryRepository,
    scheduler: ExtractionScheduler,
    user_key: str,
    within_seconds: float,
) -> int:
    """Run `user_key`'s pending learning now (under the user lock, as any learning runs) and
    wait for it at most `within_seconds`. Returns 0 when it finished (or nothing was pending),
    else how many messages it is still learning from. A failure is logged by the scheduler,
    which retries it; this never raises for it."""
    pending = await repository.list_pending(user_key)
    if not pending:
        return 0
    running = asyncio.ensure_future(scheduler.run_now(user_key))
    done, _ = await asyncio.wait({running}, timeout=within_seconds)
    if running in done:
        running.exception()  # retrieved: the scheduler has logged and re-armed any failure
        return 0
    # Still running: the scheduler's own task carries on; this waiter just stops waiting.
    running.cancel()
    return len(pending)
