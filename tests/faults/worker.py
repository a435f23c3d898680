"""A bot process for fault tests: `python -m tests.faults.worker URL USER FIRST COUNT`.

Tells the engine COUNT hobbies concurrently and learns each at once, as a busy bot would.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from tempfile import mkdtemp

from bot.storage import open_storage
from tests.conftest import MANUAL, engine_on
from tests.memory.helpers import dm, person, say
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel


async def main(url: str, user_name: str, first: int, count: int) -> None:
    async with open_storage(url, Path(mkdtemp()), pool_size=20) as storage:
        engine = engine_on(
            storage, ScriptedChatModel(script=memory_script, latency=0.002), config=MANUAL
        )
        user = person(user_name)

        async def one(n: int) -> None:
            await engine.reply(say(user, dm(user, f"s{n}"), f"I like hobby{n}"))
            await engine.learner.learn_pending(user.key)

        await asyncio.gather(*(one(n) for n in range(first, first + count)))
        await engine.scheduler.close()


if __name__ == "__main__":
    url, user_name, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    asyncio.run(main(url, user_name, first, count))
