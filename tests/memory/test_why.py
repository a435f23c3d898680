"""`/memory why` answers from current memory and names where what the item says now came from:
the pending messages are learned first, and a correction is named as a correction."""

from __future__ import annotations

import pytest

from memory.commands.results import CorrectResult, UndoResult, WhyResult
from memory.commands.verbs import MemoryCommand
from memory.engine import MemoryEngine
from memory.identity import UserRef
from tests.conftest import unique
from tests.memory.helpers import channel, dm, person, say

ALICE = person("alice")


@pytest.fixture(autouse=True)
def people(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(globals(), "ALICE", person(unique("alice")))


async def said(engine: MemoryEngine, text: str, user: UserRef | None = None) -> str:
    """Tell the bot `text` and leave learning pending (the quiet period has not passed)."""
    user = user or ALICE
    message = say(user, dm(user), text)
    await engine.reply(message)
    return message.message_id


async def why(engine: MemoryEngine, item_id: str) -> WhyResult:
    result = await engine.run_command(ALICE, MemoryCommand("why", item_id=item_id))
    assert isinstance(result, WhyResult)
    return result


async def test_why_right_after_telling_learns_the_pending_messages_first(
    engine: MemoryEngine,
) -> None:
    await said(engine, "I live in Porto.")
    first = await why(engine, "location")  # not yet learned: learned now, not "no such id"
    assert first.item.text == "location: Porto" and first.words == "I live in Porto."

    moved = await said(engine, "I moved to Lisbon.")
    second = await why(engine, "location")
    assert second.item.text == "location: Lisbon"
    assert second.message_id == moved and second.words == "I moved to Lisbon."


async def test_why_after_a_correction_names_the_correction_not_an_older_message(
    engine: MemoryEngine,
) -> None:
    await said(engine, "I live in Porto.")
    await engine.learn_now(ALICE.key)
    await said(engine, "I moved to Lisbon.")
    undone = await engine.run_command(ALICE, MemoryCommand("undo"))
    assert isinstance(undone, UndoResult) and undone.reason == "done"
    corrected = await engine.run_command(ALICE, MemoryCommand("correct", text="I moved to Madrid"))
    assert isinstance(corrected, CorrectResult) and corrected.profile_changed
    answer = await why(engine, "location")
    assert answer.item.text == "location: Madrid"
    assert "Porto" not in answer.as_text().split("history:", 1)[0]
    assert answer.words is None and answer.message_id is None
    assert answer.corrected is not None
    assert "/memory correct" in answer.as_text()


async def test_why_for_a_fact_changed_by_a_message_then_corrected_names_the_correction(
    engine: MemoryEngine,
) -> None:
    await said(engine, "Remember that I keep bees.")
    await engine.learn_now(ALICE.key)
    await said(engine, "It is not bees but wasps.")
    await engine.learn_now(ALICE.key)
    memory = await engine.repository.load(ALICE.key)
    (fact_id,) = memory.facts
    await engine.run_command(ALICE, MemoryCommand("correct", text="It is not wasps but ants"))
    answer = await why(engine, fact_id)
    assert answer.item.text == "I keep ants"
    assert answer.words is None and answer.message_id is None
    assert answer.corrected is not None and "/memory correct" in answer.as_text()


async def test_why_quotes_a_channel_message_without_the_speaker_name(
    engine: MemoryEngine,
) -> None:
    message = say(ALICE, channel(), "Remember that I keep bees.")
    await engine.reply(message)
    await engine.learn_now(ALICE.key)
    (fact_id,) = (await engine.repository.load(ALICE.key)).facts
    answer = await why(engine, fact_id)
    assert answer.message_id == message.message_id
    assert answer.words == "Remember that I keep bees."


async def test_history_shows_old_and_new_for_a_fact_a_message_changed(
    engine: MemoryEngine,
) -> None:
    await said(engine, "Remember that I keep bees.")
    await engine.learn_now(ALICE.key)
    await said(engine, "It is not bees but wasps.")
    await engine.learn_now(ALICE.key)
    history = await engine.run_command(ALICE, MemoryCommand("history"))
    assert "I keep bees -> I keep wasps" in history.as_text()
