"""Slack edits and deletions reach memory: a deleted message is never learned or kept, an edit
replaces what was pending."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.slack.intake import inbox_key
from bot.storage import Storage
from memory.commands.results import UndoResult, WhyResult
from memory.commands.verbs import MemoryCommand
from memory.engine import MemoryEngine
from memory.intake.delivery import Delivery
from tests.fakes.slack import event_envelope
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


def _deletion(ts: str) -> dict[str, object]:
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": "D1",
        "channel_type": "im",
        "ts": next_ts(),
        "deleted_ts": ts,
        "previous_message": {"type": "message", "user": "U1", "text": CLINIC, "ts": ts},
    }


async def test_a_deletion_is_recorded_before_the_ack_and_settled_once(
    bot: Bot,
    delivery: Delivery,
    storage: Storage,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    ts = await bot.dm(CLINIC)
    await _answered(bot, 1)

    _, event_id = await bot.event(_deletion(ts))

    assert await until_gone(storage, request, tmp_path, "Kestrel") == []
    for _ in range(500):  # bounded: settled right after it is applied
        if await storage.inbox.record(inbox_key(event_id), {}) == "done":
            break
        await asyncio.sleep(0.01)
    assert await storage.inbox.record(inbox_key(event_id), {}) == "done"


async def test_a_deletion_whose_process_died_after_the_ack_is_applied_by_recovery(
    bot: Bot,
    delivery: Delivery,
    storage: Storage,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    ts = await bot.dm(CLINIC)
    await _answered(bot, 1)
    envelope = event_envelope(_deletion(ts))
    key = inbox_key(str(envelope["event_id"]))
    # Recorded and acked, then taken by a process that was killed before applying it: its
    # lease runs out. Slack never sends it again (it was acked).
    assert await delivery.record(key, envelope) == "received"
    assert await storage.inbox.claim(key, "killed", lease_seconds=-1)
    assert places(storage, request, tmp_path, "Kestrel")

    assert await delivery.recover() == 1

    assert await until_gone(storage, request, tmp_path, "Kestrel") == []
    assert [call for call in bot.slack.calls if call.method == "chat.postMessage"][1:] == []


async def test_deleting_a_learned_message_takes_its_words_out_of_history_and_undo(
    bot: Bot,
    engine: MemoryEngine,
    storage: Storage,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    await bot.dm("Remember that I keep Wugs.")
    await _answered(bot, 1)
    await engine.learn_now(ALICE.key)
    patch = "It is not Wugs but Snarkles."
    ts = await bot.dm(patch)
    await _answered(bot, 2)
    await engine.learn_now(ALICE.key)
    undone = await engine.run_command(ALICE, MemoryCommand("undo"))
    assert isinstance(undone, UndoResult) and undone.reverted == ["I keep Snarkles"]

    await bot.event({**_deletion(ts), "previous_message": {"user": "U1", "text": patch, "ts": ts}})

    # Learned, undone, deleted: no history line or undo state keeps the message's words.
    assert await until_gone(storage, request, tmp_path, "Snarkles") == []
    assert [f.text for f in (await memory_of(engine)).facts] == ["I keep Wugs"]


async def test_editing_a_learned_message_takes_its_words_out_of_history_and_undo(
    bot: Bot, engine: MemoryEngine
) -> None:
    ts = await bot.dm("Remember that I keep Wugs.")
    await _answered(bot, 1)
    await engine.learn_now(ALICE.key)
    [fact] = (await memory_of(engine)).facts
    edited_text = "Remember that I keep Gloms."
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

    for _ in range(500):  # bounded: applied after the ack
        history = await engine.repository.history(ALICE.key)
        if not any(e.cause.endswith(ts) for e in history.values()):
            break
        await asyncio.sleep(0.02)
    # As for a delete: what was learned stays, history and Undo keep none of the old words.
    history = await engine.repository.history(ALICE.key)
    assert not any(e.cause.endswith(ts) for e in history.values())
    stored = str([s.model_dump() for s in await engine.repository.change_sets(ALICE.key)])
    assert "Wugs" not in stored
    undone = await engine.run_command(ALICE, MemoryCommand("undo"))
    assert isinstance(undone, UndoResult) and undone.reverted == []
    assert [f.text for f in (await memory_of(engine)).facts] == ["I keep Wugs"]
    # The item was not learned from the new words: why does not quote them as its source.
    why = await engine.run_command(ALICE, MemoryCommand("why", item_id=fact.id))
    assert isinstance(why, WhyResult)
    assert why.words is None and "Gloms" not in why.as_text()
    assert "edited" in why.as_text()
