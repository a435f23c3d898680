"""Erasure at its edges: replies written during a forget, summaries elsewhere, deletes of
folded messages and from other processes, only the messages a memory came from, whole words,
and SQLite's write-ahead log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from langchain_core.runnables import RunnableConfig

from bot.storage import Storage, open_storage
from memory.commands.results import ShowResult
from memory.commands.verbs import MemoryCommand, parse_command
from memory.engine import MemoryEngine
from memory.identity import UserRef
from memory.messages import MessageDeleted
from tests.conftest import engine_on, unique
from tests.memory.helpers import channel, dm, person, say
from tests.memory.scan import places, places_holding
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel


async def _fact_id(engine: MemoryEngine, user: UserRef, word: str) -> str:
    shown = await engine.run_command(user, MemoryCommand("show"))
    assert isinstance(shown, ShowResult)
    return next(v.id for v in shown.facts if word in v.text)


async def _forget(engine: MemoryEngine, user: UserRef, word: str) -> None:
    await engine.run_command(
        user, MemoryCommand("forget", item_id=await _fact_id(engine, user, word))
    )


async def _texts(engine: MemoryEngine, thread: str) -> str:
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    state = await engine.graph.aget_state(config)
    summary = (state.values.get("summary") or {}).get("text", "")
    return "\n".join([summary, *(m.text for m in state.values.get("messages", []))])


async def _summarize(engine: MemoryEngine, thread: str, text: str) -> None:
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    summary = {"text": text, "at": datetime.now(UTC).isoformat()}
    await engine.graph.aupdate_state(config, {"summary": summary}, as_node="remember")


async def test_a_reply_written_while_its_memory_is_forgotten_is_not_kept(
    storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    model = ScriptedChatModel(script=memory_script)
    engine = engine_on(storage, model)
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "Remember that I own a Narwhalcopter"))
    await engine.learn_now(alice.key)
    item = await _fact_id(engine, alice, "Narwhalcopter")

    model.latency = 1.0  # the reply is written from memory read before the forget
    turn = asyncio.create_task(engine.reply(say(alice, dm(alice), "What do you know?")))
    await asyncio.sleep(0.3)
    model.latency = 0.0
    await engine.run_command(alice, MemoryCommand("forget", item_id=item))
    answer = await turn

    assert "Narwhalcopter" in answer.text  # it was said; it is not kept
    assert places(storage, request, tmp_path, "Narwhalcopter") == []
    await engine.scheduler.close()


async def test_a_summary_in_another_conversation_that_repeats_it_goes(
    engine: MemoryEngine, storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice, "one"), "Remember that I breed Kinkajous"))
    await engine.learn_now(alice.key)
    elsewhere = dm(alice, "two")
    await engine.reply(say(alice, elsewhere, "hello"))
    await _summarize(engine, elsewhere.key, "Alice said she breeds kinkajous; I breed Kinkajous.")

    await engine.run_command(
        alice, MemoryCommand("forget", item_id=await _fact_id(engine, alice, "Kinkajous"))
    )

    assert places(storage, request, tmp_path, "Kinkajous") == []
    assert "hello" in await _texts(engine, elsewhere.key)  # the rest of it stays


async def test_forgetting_one_memory_keeps_the_other_messages_of_its_batch(
    engine: MemoryEngine,
) -> None:
    alice = person(unique("alice"))
    here = dm(alice)
    for line in (
        "My name is Pemberton",
        "Remember that I work at Globex",
        "Remind me to water the ficus",
    ):
        await engine.reply(say(alice, here, line))
    await engine.learn_now(alice.key)

    await engine.run_command(
        alice, MemoryCommand("forget", item_id=await _fact_id(engine, alice, "Globex"))
    )

    kept = await _texts(engine, here.key)
    assert "Globex" not in kept
    assert "Pemberton" in kept and "ficus" in kept


async def test_repeats_are_whole_words_and_replies_to_others_stay(engine: MemoryEngine) -> None:
    ann, bob = person(unique("ann")), person(unique("bob"))
    room = channel(unique("room"))
    await engine.reply(say(bob, room, "Remember that I am planning a launch"))
    await engine.learn_now(bob.key)
    await engine.reply(say(ann, room, "My name is Ann"))
    await engine.learn_now(ann.key)
    await engine.reply(say(bob, room, "What do you know?"))  # the reply repeats "planning"

    await engine.run_command(ann, parse_command("forget name"))

    kept = await _texts(engine, room.key)
    # Bob's message and the bot's reply to him both say "planning", which holds "ann".
    assert kept.count("planning") >= 2
    assert "My name is Ann" not in kept


async def test_deleting_a_message_already_folded_into_the_summary_drops_the_summary(
    engine: MemoryEngine,
) -> None:
    alice = person(unique("alice"))
    here = dm(alice)
    await engine.reply(say(alice, here, "hello"))
    await _summarize(engine, here.key, "Earlier Alice mentioned her Axolotl farm.")

    gone = MessageDeleted(here, ("an-old-message",))
    assert await engine.message_deleted(gone) == 0

    assert "Axolotl" not in await _texts(engine, here.key)


async def test_a_delete_handled_by_another_process_while_the_reply_is_in_flight(
    postgres_url: str, tmp_path: Path
) -> None:
    async with (
        open_storage(postgres_url, tmp_path / "a") as first,
        open_storage(postgres_url, tmp_path / "b") as second,
    ):
        slow = ScriptedChatModel(script=memory_script, latency=1.0)
        answering, deleting = engine_on(first, slow), engine_on(second)
        alice = person(unique("alice"))
        message = say(alice, dm(alice), "Remember that I visit Dr Quorwick")
        turn = asyncio.create_task(answering.reply(message))
        await asyncio.sleep(0.3)
        await deleting.message_deleted(
            MessageDeleted(message.conversation, (message.message_id,), author=alice)
        )
        await turn
        await answering.learn_now(alice.key)

        shown = await answering.run_command(alice, MemoryCommand("show"))
        assert isinstance(shown, ShowResult) and shown.facts == []
        assert places_holding(first, "Quorwick", url=postgres_url, data_dir=tmp_path) == []
        for engine in (answering, deleting):
            await engine.scheduler.close()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_files_keep_no_forgotten_bytes_while_the_bot_runs(
    engine: MemoryEngine, tmp_path: Path
) -> None:
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "Remember that I collect Quokkaberries"))
    await engine.learn_now(alice.key)

    await engine.run_command(
        alice, MemoryCommand("forget", item_id=await _fact_id(engine, alice, "Quokkaberries"))
    )

    # The raw files, write-ahead logs included, as they are on disk now (nothing closed).
    holding = [
        path.name
        for path in sorted((tmp_path / "data").iterdir())
        if b"Quokkaberries" in path.read_bytes()
    ]
    assert holding == []
