"""Slack edits and deletions reach memory: a deleted message is never learned or kept, an edit
replaces what was pending."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.storage import Storage
from memory.engine import MemoryEngine
from tests.memory.scan import places, until_gone
from tests.slack.conftest import ALICE, Bot, memory_of, next_ts

CLINIC = "Remember that I have an appointment at the Kestrel clinic."


async def _answered(bot: Bot, count: int) -> None:
    await bot.slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "chat.postMessage"]) >= count
    )


async def test_a_deleted_dm_is_not_learned_and_leaves_the_conversation(
    bot: Bot,
    engine: MemoryEngine,
    storage: Storage,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    ts = await bot.dm(CLINIC)
    await _answered(bot, 1)
    assert places(storage, request, tmp_path, "Kestrel")

    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": "D1",
        "channel_type": "im",
        "ts": next_ts(),
        "deleted_ts": ts,
        "previous_message": {"type": "message", "user": "U1", "text": CLINIC, "ts": ts},
    }
    await bot.event(deleted)

    assert await until_gone(storage, request, tmp_path, "Kestrel") == []
    await engine.learn_now(ALICE.key)
    assert (await memory_of(engine)).facts == []


async def test_an_edit_replaces_what_is_pending_and_stored(
    bot: Bot,
    engine: MemoryEngine,
    storage: Storage,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    ts = await bot.dm("Remember that I live near Oslofjord")
    await _answered(bot, 1)
    edited_text = "Remember that I live near Hardangerfjord"
    changed = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": "D1",
        "channel_type": "im",
        "ts": next_ts(),
        "message": {"type": "message", "user": "U1", "text": edited_text, "ts": ts},
        "previous_message": {"type": "message", "user": "U1", "text": "...", "ts": ts},
    }
    await bot.event(changed)

    assert await until_gone(storage, request, tmp_path, "Oslofjord") == []
    await engine.learn_now(ALICE.key)
    assert [f.text for f in (await memory_of(engine)).facts] == ["I live near Hardangerfjord"]
