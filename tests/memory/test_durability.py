"""Learning is off the reply path, survives a restart, and conversations stay bounded."""

from __future__ import annotations

import asyncio

from bot.storage import Storage
from memory.agent.graph import SUMMARIZE_AFTER
from memory.engine import EngineConfig, MemoryEngine
from tests.conftest import MANUAL, engine_on, unique
from tests.memory.helpers import dm, person, say
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel


def _engine(storage: Storage, model: ScriptedChatModel, config: EngineConfig) -> MemoryEngine:
    return engine_on(storage, model, config=config)


async def test_the_reply_does_not_wait_for_learning(
    engine: MemoryEngine, model: ScriptedChatModel
) -> None:
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "Remember that I keep bees"))

    assert len(model.calls) == 1  # the reply alone; no extraction call yet
    assert len(await engine.repository.list_pending(alice.key)) == 1
    assert (await engine.repository.load(alice.key)).facts == {}


async def test_pending_learning_is_picked_up_after_a_restart(storage: Storage) -> None:
    alice = person(unique("alice"))
    before = _engine(storage, ScriptedChatModel(script=memory_script), MANUAL)
    await before.reply(say(alice, dm(alice), "Remember that I keep bees"))
    await before.scheduler.close()  # the process dies without learning

    after = _engine(
        storage,
        ScriptedChatModel(script=memory_script),
        EngineConfig(quiet_seconds=0.01, every_messages=100),
    )
    await after.start()
    for _ in range(500):
        if (await after.repository.load(alice.key)).facts:
            break
        await asyncio.sleep(0.01)
    await after.aclose()

    facts = (await after.repository.load(alice.key)).facts
    assert [f.text() for f in facts.values()] == ["I keep bees"]
    assert await after.repository.list_pending(alice.key) == {}


async def test_every_k_messages_triggers_learning_without_waiting(storage: Storage) -> None:
    alice = person(unique("alice"))
    model = ScriptedChatModel(script=memory_script)
    engine = _engine(storage, model, EngineConfig(quiet_seconds=3600, every_messages=3))
    for n in range(3):
        await engine.reply(say(alice, dm(alice), f"Remember that I have cat {n}"))
    for _ in range(500):
        if len((await engine.repository.load(alice.key)).facts) == 3:
            break
        await asyncio.sleep(0.01)
    await engine.aclose()
    assert len((await engine.repository.load(alice.key)).facts) == 3
    extraction_calls = [c for c in model.calls if c.tools]
    assert len(extraction_calls) == 1  # three messages learned in one batch


async def test_a_long_conversation_keeps_state_prompt_and_checkpoints_bounded(
    storage: Storage, model: ScriptedChatModel
) -> None:
    engine = _engine(
        storage, model, EngineConfig(quiet_seconds=3600, every_messages=10_000, prune_every=5)
    )
    alice = person(unique("alice"))
    where = dm(alice, "long")
    for n in range(60):
        await engine.reply(say(alice, where, f"message number {n} " + "words " * 30))
    await engine.aclose()

    state = await engine.graph.aget_state({"configurable": {"thread_id": where.key}})
    assert len(state.values["messages"]) <= SUMMARIZE_AFTER
    assert state.values["summary"]["text"]  # the old turns live on as a summary
    replies = [c for c in model.calls if "<memory>" in c.system]
    last_prompt = replies[-1].messages
    assert len(last_prompt) <= SUMMARIZE_AFTER + 2  # history, this message, the system message
    assert "message number 59" in last_prompt[-1].text
    assert "<summary>" in last_prompt[0].text
    history = [
        c async for c in storage.checkpointer.alist({"configurable": {"thread_id": where.key}})
    ]
    assert len(history) <= 5


async def test_a_running_process_adopts_learning_another_process_left_behind(
    storage: Storage,
) -> None:
    alice = person(unique("alice"))
    survivor = _engine(
        storage,
        ScriptedChatModel(script=memory_script),
        EngineConfig(quiet_seconds=0.01, every_messages=100, adopt_every_seconds=0.05),
    )
    await survivor.start()  # running before the other process records anything
    crashed = _engine(storage, ScriptedChatModel(script=memory_script), MANUAL)
    await crashed.reply(say(alice, dm(alice), "Remember that I keep bees"))
    await crashed.scheduler.close()  # it dies before learning

    for _ in range(500):
        if (await survivor.repository.load(alice.key)).facts:
            break
        await asyncio.sleep(0.01)
    await survivor.aclose()
    assert [f.text() for f in (await survivor.repository.load(alice.key)).facts.values()] == [
        "I keep bees"
    ]
