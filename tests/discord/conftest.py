"""The real discord.py client (our MemoryBot) against FakeDiscord, on a SQLite engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.discord.client import DiscordOptions, MemoryBot, build_client
from adapters.discord.normalize import user_ref
from memory.commands.results import ShowResult
from memory.commands.verbs import MemoryCommand
from memory.engine import MemoryEngine
from tests.fakes.discord import (
    BOT_ID,
    CHANNEL_ID,
    GUILD_ID,
    OTHER_USER_ID,
    TOKEN,
    USER_ID,
    FakeDiscord,
    Json,
    Request,
)

ALICE = user_ref(USER_ID)
BOB = user_ref(OTHER_USER_ID)


@pytest.fixture
def backend() -> str:
    """Discord tests run on SQLite; the core is tested on both backends elsewhere."""
    return "sqlite"


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        server.patch_discord(monkeypatch)
        yield server


@asynccontextmanager
async def running(
    client: MemoryBot, fake: FakeDiscord, *, reconnect: bool = False
) -> AsyncIterator[MemoryBot]:
    """Log in, connect and wait for READY; close on exit and surface what went wrong."""
    await client.login(TOKEN)
    task = asyncio.create_task(client.connect(reconnect=reconnect))
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        await client.close()
        await task
        raise AssertionError(f"client never became ready\n{fake.describe()}")
    try:
        yield client
    finally:
        await client.close()
        await task


@pytest.fixture
def options() -> DiscordOptions:
    return DiscordOptions(guild_ready_timeout=0.05)


@pytest.fixture
def reconnect() -> bool:
    return False


@pytest.fixture
async def client(
    fake: FakeDiscord, engine: MemoryEngine, options: DiscordOptions, reconnect: bool
) -> AsyncIterator[MemoryBot]:
    async with running(build_client(engine, options), fake, reconnect=reconnect) as bot:
        yield bot


@dataclass
class Chat:
    """Drives the bot as people would: messages over the gateway, slash commands, buttons."""

    fake: FakeDiscord
    engine: MemoryEngine

    async def send(self, message: Json) -> Request:
        """Dispatch a MESSAGE_CREATE and wait for the first message the bot posts after it."""
        start = len(self.fake.requests)
        await self.fake.dispatch("MESSAGE_CREATE", message)
        channel = message["channel_id"]
        return await self.fake.wait_for_request(
            "POST", rf"/channels/{channel}/messages", start=start
        )

    async def dm(self, text: str, author_id: int = USER_ID) -> Request:
        return await self.send(self.fake.message_create(text, author_id=author_id))

    async def mention(self, text: str, author_id: int = USER_ID) -> Request:
        message = self.fake.message_create(
            f"<@{BOT_ID}> {text}", author_id=author_id, guild_id=GUILD_ID, mentions=[BOT_ID]
        )
        return await self.send(message)

    async def interact(self, payload: Json) -> Request:
        """Dispatch an INTERACTION_CREATE; returns the callback the bot sent."""
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        return await self.fake.wait_for_request(
            "POST", rf"/interactions/{payload['id']}/{payload['token']}/callback"
        )

    async def command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user_id: int = USER_ID,
        guild: bool = True,
    ) -> tuple[Json, Request]:
        payload = self.fake.interaction_create(
            ["memory", name], options, user_id=user_id, guild_id=GUILD_ID if guild else None
        )
        return payload, await self.interact(payload)

    async def followup(self, payload: Json) -> Request:
        return await self.fake.wait_for_request("POST", rf"/webhooks/\d+/{payload['token']}")

    async def press(self, custom_id: str, message: Json, user_id: int = USER_ID) -> Request:
        payload = self.fake.component_interaction(custom_id, user_id, message)
        return await self.interact(payload)

    async def show(self, user_id: int = USER_ID) -> ShowResult:
        result = await self.engine.run_command(user_ref(user_id), MemoryCommand("show"))
        assert isinstance(result, ShowResult)
        return result

    async def learn(self, user_id: int = USER_ID) -> None:
        await self.engine.learn_now(user_ref(user_id).key)


@pytest.fixture
def chat(fake: FakeDiscord, engine: MemoryEngine, client: MemoryBot) -> Chat:
    return Chat(fake, engine)


def channel_posts(fake: FakeDiscord, channel_id: int = CHANNEL_ID) -> list[Request]:
    return [
        r
        for r in fake.requests
        if r.method == "POST" and r.path == f"/channels/{channel_id}/messages"
    ]
