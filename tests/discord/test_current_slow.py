"""/memory show on Discord while learning takes longer than the show waits: it says so, then
edits its answer when learning is done."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.storage import Storage
from memory.engine import MemoryEngine
from tests.conftest import MANUAL, engine_on
from tests.discord.conftest import Chat
from tests.fakes.discord import APP_ID


@pytest.fixture
async def engine(storage: Storage) -> AsyncIterator[MemoryEngine]:
    """An engine whose /memory show does not wait for learning at all."""
    built = engine_on(storage, config=replace(MANUAL, show_wait_seconds=0))
    yield built
    await built.scheduler.close()


async def test_show_says_it_is_still_learning_then_edits_its_answer(chat: Chat) -> None:
    await chat.dm("Remember that I keep bees.")

    payload, _ = await chat.command("show", guild=False)
    followup = await chat.followup(payload)

    first = json.dumps(followup.json, ensure_ascii=False)
    assert "Still learning from 1 recent message" in first and "I keep bees" not in first
    edit = await chat.fake.wait_for_request(
        "PATCH", rf"/webhooks/{APP_ID}/{payload['token']}/messages/\d+"
    )
    edited = json.dumps(edit.json, ensure_ascii=False)
    assert "I keep bees" in edited and "Still learning" not in edited
