"""Shutdown on Discord: a reply still being made when SIGTERM arrives is posted before the
gateway client closes (the drain runs with the client open)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from bot.platform_discord import DiscordPlatform
from bot.serve import serve
from bot.settings import Settings
from bot.storage import Storage
from tests.conftest import engine_on
from tests.fakes.discord import TOKEN, FakeDiscord
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel
from tests.test_platforms import free_port, until_up

IDENTIFY = 2


class GatedModel(ScriptedChatModel):
    """The scripted model, holding each call until the test opens `gate`."""

    gate: Any = None
    entered: Any = None

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.entered.set()
        await self.gate.wait()
        return await super()._agenerate(messages, stop, run_manager, **kwargs)


async def test_a_reply_in_flight_at_shutdown_is_posted(fake: FakeDiscord, storage: Storage) -> None:
    gate, entered = asyncio.Event(), asyncio.Event()
    model = GatedModel(script=memory_script, gate=gate, entered=entered)
    engine = engine_on(storage, model)
    port = free_port()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        model="openai:gpt-4o-mini",
        port=port,
        discord_token=TOKEN,
        shutdown_drain_seconds=60,
    )
    stopping = asyncio.Event()
    task = asyncio.create_task(serve(settings, engine, storage, [DiscordPlatform()], stopping))
    try:
        await fake.wait_for_gateway(IDENTIFY, timeout=10)
        message = fake.message_create("Remember that I keep bees.")
        await fake.dispatch("MESSAGE_CREATE", message)
        await asyncio.wait_for(entered.wait(), timeout=10)

        stopping.set()
        async with aiohttp.ClientSession() as session:
            # Going away: health says so while the reply is still being made.
            await until_up(session, f"http://127.0.0.1:{port}/healthz")
            async with asyncio.timeout(10):
                while True:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as health:
                        if health.status == 503:
                            break
                    await asyncio.sleep(0.02)
        gate.set()
        await asyncio.wait_for(task, timeout=30)
    finally:
        gate.set()
        stopping.set()
        if not task.done():
            task.cancel()
        await engine.scheduler.close()

    channel = message["channel_id"]
    posts = [
        r for r in fake.requests if r.method == "POST" and r.path == f"/channels/{channel}/messages"
    ]
    assert posts, f"the reply in flight was never posted\n{fake.describe()}"
