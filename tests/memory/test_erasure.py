"""Forget means forget: erasure reaches conversations, work in flight and other processes.

Each test checks the database itself (every text, JSON and binary column) for the words.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from bot.storage import Storage, open_storage
from memory.commands.results import ForgetAllReceipt, ForgetResult, HistoryResult, ShowResult
from memory.commands.verbs import parse_command
from memory.engine import MemoryEngine
from memory.identity import UserRef
from tests.conftest import engine_on, unique
from tests.memory.helpers import channel, dm, person, say
from tests.memory.scan import places, places_holding
from tests.rules import existing_docs, memory_script
from tests.scripted_model import ScriptedCall, ScriptedChatModel, call


async def _run(engine: MemoryEngine, user: UserRef, text: str):  # type: ignore[no-untyped-def]
    return await engine.run_command(user, parse_command(text))


def _chat_prompts(model: ScriptedChatModel) -> list[str]:
    """Everything the model was shown in chat turns (not learning calls)."""
    return [
        "\n".join(m.text for m in c.messages)
        for c in model.calls
        if "Fact" not in c.tools and "PatchDoc" not in c.tools
    ]


async def test_a_forgotten_fact_leaves_its_conversation_and_every_checkpoint(
    engine: MemoryEngine,
    model: ScriptedChatModel,
    storage: Storage,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    alice = person(unique("alice"))
    here = dm(alice)
    await engine.reply(say(alice, here, "Remember that I work at Acme Robotics."))
    await engine.learn_now(alice.key)
    await engine.reply(say(alice, here, "What do you know?"))  # a reply repeats the memory
    shown = await _run(engine, alice, "show facts")
    assert isinstance(shown, ShowResult) and shown.facts[0].text == "I work at Acme Robotics"
    assert places(storage, request, tmp_path, "Acme Robotics")

    forgotten = await _run(engine, alice, f"forget {shown.facts[0].id}")
    assert isinstance(forgotten, ForgetResult)
    await engine.reply(say(alice, here, "Where do I work?"))

    assert "Acme" not in _chat_prompts(model)[-1]
    assert places(storage, request, tmp_path, "Acme Robotics") == []


async def test_forget_all_voids_a_reply_still_in_flight(
    storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    slow = ScriptedChatModel(script=memory_script, latency=1.5)
    engine = engine_on(storage, slow)
    zed = person(unique("zed"))
    turn = asyncio.create_task(engine.reply(say(zed, dm(zed), "My name is Zedediah.")))
    await asyncio.sleep(0.4)
    slow.latency = 0.0

    receipt = await _run(engine, zed, "forget all confirm")
    await turn
    await engine.learn_now(zed.key)

    assert isinstance(receipt, ForgetAllReceipt) and receipt.voided_in_flight == 1
    assert "1 message(s) I was still answering" in receipt.as_text()
    shown = await _run(engine, zed, "show")
    assert isinstance(shown, ShowResult) and shown.empty
    assert places(storage, request, tmp_path, "Zedediah") == []
    await engine.scheduler.close()


async def test_forget_all_in_another_process_is_not_undone_by_a_cached_note(
    postgres_url: str, tmp_path: Path
) -> None:
    async with (
        open_storage(postgres_url, tmp_path / "a") as first,
        open_storage(postgres_url, tmp_path / "b") as second,
    ):
        answering, commanding = engine_on(first), engine_on(second)
        alice = person(unique("alice"))
        await answering.reply(say(alice, dm(alice, "one"), "Hello there"))
        first_receipt = await _run(commanding, alice, "forget all confirm")
        await answering.reply(
            say(alice, dm(alice, "one"), "Remember that I collect Ravenswood stamps")
        )
        second_receipt = await _run(commanding, alice, "forget all confirm")

        assert first_receipt.conversations == 1
        assert second_receipt.conversations == 1
        assert places_holding(first, "Ravenswood", url=postgres_url, data_dir=tmp_path) == []
        for engine in (answering, commanding):
            await engine.scheduler.close()


async def test_forget_that_said_in_chat_keeps_no_text(
    engine: MemoryEngine, storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "Remember that I keep Carniolan bees"))
    await engine.learn_now(alice.key)
    await engine.reply(say(alice, dm(alice), "Please forget that I keep Carniolan bees."))
    await engine.learn_now(alice.key)

    history = await _run(engine, alice, "history")
    assert isinstance(history, HistoryResult)
    assert "removed" in history.as_text() and "Carniolan" not in history.as_text()
    shown = await _run(engine, alice, "show")
    assert isinstance(shown, ShowResult) and shown.facts == []
    assert places(storage, request, tmp_path, "Carniolan") == []


async def test_every_profile_field_has_its_own_id_and_forget(
    engine: MemoryEngine, storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "My name is Alice"))
    await engine.reply(say(alice, dm(alice), "Now i live in Vilnius."))
    await engine.learn_now(alice.key)

    shown = await _run(engine, alice, "show profile")
    assert isinstance(shown, ShowResult)
    assert {v.id: v.text for v in shown.profiles} == {
        "name": "name: Alice",
        "location": "location: Vilnius",
    }
    assert "[location] location: Vilnius" in shown.as_text()

    forgotten = await _run(engine, alice, "forget location")
    assert isinstance(forgotten, ForgetResult) and forgotten.item.text == "location: Vilnius"
    after = await _run(engine, alice, "show profile")
    assert [v.id for v in after.profiles] == ["name"]
    assert places(storage, request, tmp_path, "Vilnius") == []
    assert places(storage, request, tmp_path, "Alice")  # what was not forgotten stays


async def test_forget_all_removes_the_persons_turns_from_shared_threads_only(
    engine: MemoryEngine, storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    alice, bob = person(unique("alice")), person(unique("bob"))
    room = channel(unique("room"))
    await engine.reply(say(alice, room, "Remember that I brew Quetzal coffee"))
    await engine.reply(say(bob, room, "Remember that I grow Okra plants"))

    receipt = await _run(engine, alice, "forget all confirm")

    assert isinstance(receipt, ForgetAllReceipt) and receipt.channel_threads == 1
    assert places(storage, request, tmp_path, "Quetzal") == []
    assert places(storage, request, tmp_path, "Okra plants")


def _removes_whole_documents(request: ScriptedCall) -> AIMessage:
    """Like the rule model, but asked to forget it patches the whole document away."""
    prompt = request.last_text
    if "PatchDoc" in request.tools and "forget" in prompt.lower():
        docs = existing_docs(request.system)
        whole = {"op": "remove", "path": ""}
        if "my profile" in prompt.lower():
            target = "profile"
        else:
            target = next(k for k, (schema, data) in docs.items() if "bees" in str(data))
        return AIMessage(
            content="",
            tool_calls=[
                call("PatchDoc", json_doc_id=target, planned_edits="forget it", patches=[whole])
            ],
        )
    return memory_script(request)


async def test_a_patch_that_removes_the_whole_document_forgets_it(
    storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    engine = engine_on(storage, ScriptedChatModel(script=_removes_whole_documents))
    alice = person(unique("alice"))
    for line in ("My name is Wilhelmina", "Remember that I keep Buckfast bees"):
        await engine.reply(say(alice, dm(alice), line))
    await engine.learn_now(alice.key)

    await engine.reply(say(alice, dm(alice), "Please forget that I keep bees."))
    await engine.learn_now(alice.key)
    shown = await _run(engine, alice, "show")
    assert isinstance(shown, ShowResult) and shown.facts == []
    assert [v.id for v in shown.profiles] == ["name"]

    await engine.reply(say(alice, dm(alice), "Forget my profile, please."))
    await engine.learn_now(alice.key)
    assert (await _run(engine, alice, "show")).empty
    assert places(storage, request, tmp_path, "Buckfast") == []
    assert places(storage, request, tmp_path, "Wilhelmina") == []
    await engine.scheduler.close()
