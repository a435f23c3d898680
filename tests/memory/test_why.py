"""`/memory why` answers from current memory and names where what the item says now came from:
the pending messages are learned first, and a correction is named as a correction."""

from __future__ import annotations

from dataclasses import replace

import pytest

from memory.commands.results import CorrectResult, UndoResult, WhyResult
from memory.commands.verbs import MemoryCommand
from memory.engine import MemoryEngine
from memory.identity import UserRef
from memory.messages import MessageDeleted, MessageEdited
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


@pytest.mark.parametrize("how", ["deleted", "edited"])
async def test_why_never_credits_a_profile_value_to_a_message_it_did_not_come_from(
    engine: MemoryEngine, how: str
) -> None:
    porto = say(ALICE, dm(ALICE), "I live in Porto.")
    porto = replace(porto, permalink="https://example.test/porto")
    await engine.reply(porto)
    await engine.learn_now(ALICE.key)
    lisbon = say(ALICE, dm(ALICE), "I moved to Lisbon.")
    await engine.reply(lisbon)
    await engine.learn_now(ALICE.key)
    if how == "deleted":
        await engine.message_deleted(MessageDeleted(dm(ALICE), (lisbon.message_id,), author=ALICE))
    else:
        await engine.message_edited(MessageEdited(dm(ALICE), lisbon.message_id, "Hi there."))

    where = await why(engine, "location")

    assert where.item.text == "location: Lisbon"
    assert where.words is None and where.message_id != porto.message_id
    text = where.as_text()
    # History still says the value was Porto once; the answer credits Porto's message nothing.
    assert "https://example.test/porto" not in text and "you said" not in text
    assert where.permalink is None and "I live in Porto." not in text
    if how == "deleted":
        assert where.deleted and "the message I learned it from is no longer stored" in text
    else:
        assert where.edited and "you edited that message after I learned from it" in text


async def test_why_for_a_fact_whose_message_was_deleted_says_so_with_no_link(
    engine: MemoryEngine,
) -> None:
    await engine.reply(say(ALICE, dm(ALICE), "Remember that I keep bees."))
    await engine.learn_now(ALICE.key)
    patch = replace(
        say(ALICE, dm(ALICE), "It is not bees but wasps."), permalink="https://x.test/p"
    )
    await engine.reply(patch)
    await engine.learn_now(ALICE.key)
    await engine.message_deleted(MessageDeleted(dm(ALICE), (patch.message_id,), author=ALICE))
    [fact_id] = (await engine.repository.load(ALICE.key)).facts

    answer = await why(engine, fact_id)

    assert answer.item.text == "I keep wasps" and answer.deleted and answer.permalink is None
    text = answer.as_text()
    assert "https://x.test/p" not in text
    assert "the message I learned it from is no longer stored" in text


async def test_why_says_the_only_message_a_profile_value_came_from_was_deleted(
    engine: MemoryEngine,
) -> None:
    porto = replace(say(ALICE, dm(ALICE), "I live in Porto."), permalink="https://x.test/porto")
    await engine.reply(porto)
    await engine.learn_now(ALICE.key)
    await engine.message_deleted(MessageDeleted(dm(ALICE), (porto.message_id,), author=ALICE))

    where = await why(engine, "location")

    # What was learned stays; where it came from is gone, and the answer says so.
    assert where.item.text == "location: Porto" and where.deleted
    assert where.permalink is None and where.words is None
    assert "the message I learned it from is no longer stored" in where.as_text()
