"""Discord's 3-second window and buttons across restarts.

Every command and button press is acknowledged before the work that may wait (the person's
lock, held while their memory is learned; the model): the tests hold the lock with a model
that does not answer until told, and see the acknowledgement arrive meanwhile. Buttons carry
their owner and item in the custom id: a new process on the same storage understands a press
on a message an earlier process sent."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

from adapters.discord.client import DiscordOptions, build_client
from adapters.discord.views import NOT_YOURS
from bot.storage import Storage
from tests.conftest import engine_on
from tests.discord.conftest import Chat, running
from tests.discord.test_memory_commands import DEFERRED, ask, edited, embed_text, forget_id
from tests.fakes.discord import EPHEMERAL, OTHER_USER_ID, FakeDiscord, custom_ids
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel


class HeldModel(ScriptedChatModel):
    """Learning calls (with tools) wait until `release` is set; `holding` says one waits."""

    release: asyncio.Event = Field(default_factory=asyncio.Event)
    holding: asyncio.Event = Field(default_factory=asyncio.Event)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if kwargs.get("tools"):
            self.holding.set()
            await self.release.wait()
        return await super()._agenerate(messages, stop, run_manager, **kwargs)


async def test_commands_and_buttons_are_acknowledged_while_learning_holds_the_lock(
    fake: FakeDiscord, storage: Storage, options: DiscordOptions
) -> None:
    model = HeldModel(script=memory_script)
    model.release.set()  # learning answers at once until the test holds it
    engine = engine_on(storage, model)
    async with running(build_client(engine, options), fake):
        chat = Chat(fake, engine)
        await chat.mention("Remember that I keep bees.")
        await chat.learn()
        shown = await ask(chat, "show")
        await chat.mention("Remember that I like tea.")
        model.release.clear()
        learning = asyncio.create_task(chat.learn())
        await model.holding.wait()  # learning now holds the person's lock, waiting on the model

        payload, callback = await chat.command("pause")
        assert callback.json == DEFERRED and not learning.done()
        [button] = [c for c in custom_ids(shown) if c.startswith("memory:forget:")]
        press = await chat.press(button, shown)
        assert press.json == {"type": 6} and not learning.done()

        model.release.set()
        await learning
        assert "Learning paused" in embed_text((await chat.followup(payload)).json)
        assert "Forgotten: I keep bees" in embed_text(await edited(fake, press))
    await engine.aclose()


async def test_buttons_work_after_a_restart_on_the_same_storage(
    fake: FakeDiscord, storage: Storage, options: DiscordOptions
) -> None:
    first = engine_on(storage)
    async with running(build_client(first, options), fake):
        chat = Chat(fake, first)
        await chat.mention("Remember that I keep bees.")
        await chat.mention("Remember that I like tea.")
        await chat.learn()
        ids = {item.text: item.id for item in (await chat.show()).facts}
        shown = await ask(chat, "show")
    await first.aclose()

    second = engine_on(storage)  # a new process: new engine and client, same database
    async with running(build_client(second, options), fake):
        chat = Chat(fake, second)
        bees = forget_id(ids["I keep bees"])
        assert bees in custom_ids(shown)

        refusal = await chat.press(bees, shown, OTHER_USER_ID)
        assert refusal.json["data"]["content"] == NOT_YOURS
        assert refusal.json["data"]["flags"] == EPHEMERAL

        update = await edited(fake, await chat.press(bees, shown))
        assert "Forgotten: I keep bees" in embed_text(update)
        # "I like tea" is a fact and, in the profile, an interest: each has its own button.
        forgets = [c for c in custom_ids(update) if c.startswith("memory:forget:")]
        assert forgets == [forget_id("interests"), forget_id(ids["I like tea"])]
        assert [f.text for f in (await chat.show()).facts] == ["I like tea"]
    await second.aclose()
