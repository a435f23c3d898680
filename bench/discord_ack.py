"""How long Discord waits for the bot's first response to a /memory command or a button press
while the person's memory is being learned with a slow model (the lock is held throughout).

    python -m bench.discord_ack [--model-seconds 5] [--rounds 10]

The real discord.py client runs against the local fake Discord on SQLite. Each round holds
the person's lock (learning waits on a model that takes `--model-seconds`), then sends
`/memory pause` and presses a Forget button, and times each from INTERACTION_CREATE to the
first callback Discord receives. Discord drops an interaction not answered within 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.client import DiscordOptions, build_client
from bench.report import percentile
from bot.storage import open_storage
from tests.conftest import engine_on
from tests.discord.conftest import Chat, running
from tests.discord.test_memory_commands import ask
from tests.fakes.discord import USER_ID, FakeDiscord, custom_ids
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel


class SlowLearning(ScriptedChatModel):
    """Learning calls (with tools) take `seconds`; chat answers are immediate."""

    seconds: float = 5.0

    async def _agenerate(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Any:
        if kwargs.get("tools"):
            await asyncio.sleep(self.seconds)
        return await super()._agenerate(messages, stop, run_manager, **kwargs)


async def timed(chat: Chat, fake: FakeDiscord, payload: dict[str, Any]) -> float:
    start = time.perf_counter()
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for_request(
        "POST", rf"/interactions/{payload['id']}/{payload['token']}/callback"
    )
    return time.perf_counter() - start


async def main(model_seconds: float, rounds: int) -> None:
    monkeypatch = pytest.MonkeyPatch()
    commands: list[float] = []
    presses: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeDiscord() as fake, open_storage("", Path(tmp)) as storage:
            fake.patch_discord(monkeypatch)
            model = SlowLearning(script=memory_script, seconds=0.0)
            engine = engine_on(storage, model)
            async with running(
                build_client(engine, DiscordOptions(guild_ready_timeout=0.05)), fake
            ):
                chat = Chat(fake, engine)
                for n in range(rounds):
                    await chat.mention(f"Remember that I keep {n} bees.")
                    await chat.learn()
                    shown = await ask(chat, "show")
                    await chat.mention(f"Remember that I like tea number {n}.")
                    model.seconds = model_seconds
                    learning = asyncio.create_task(chat.learn())
                    await asyncio.sleep(0.1)  # learning has the lock and waits on the model
                    pause = fake.interaction_create(["memory", "pause"], None)
                    commands.append(await timed(chat, fake, pause))
                    button = next(c for c in custom_ids(shown) if c.startswith("memory:forget:"))
                    press = fake.component_interaction(button, USER_ID, shown)
                    presses.append(await timed(chat, fake, press))
                    await learning
                    model.seconds = 0.0
                    await ask(chat, "resume")
            await engine.aclose()
    monkeypatch.undo()
    print(
        f"first response while learning holds the lock: model {model_seconds:.1f} s, "
        f"{rounds} rounds"
    )
    for name, values in (("/memory pause", commands), ("Forget button", presses)):
        print(
            f"  {name:14} p50 {percentile(values, 50) * 1000:7.1f} ms   "
            f"max {max(values) * 1000:7.1f} ms   (Discord's limit: 3000 ms)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.model_seconds, args.rounds))
