"""Time-aware memory: when things were said, when they happen, and what an update replaced."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from memory.agent.timeline import dated, earlier_values
from memory.commands.verbs import parse_command
from memory.engine import MemoryEngine
from memory.identity import ConversationRef, UserRef
from memory.messages import ChatMessage
from memory.schemas import Provenance, StoredItem
from tests.conftest import unique
from tests.memory.helpers import dm, person
from tests.scripted_model import ScriptedChatModel

MONDAY = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
_ids = itertools.count(1)


def said_on(user: UserRef, where: ConversationRef, text: str, at: datetime) -> ChatMessage:
    return ChatMessage(user, where, text, f"t{next(_ids)}", sent_at=at)


async def test_next_friday_is_stored_as_the_date_it_means(
    engine: MemoryEngine, model: ScriptedChatModel
) -> None:
    ana = person(unique("ana"))
    await engine.reply(said_on(ana, dm(ana), "Remind me to book the venue next Friday.", MONDAY))
    # Learned months later (after a restart, say): the date it was said still decides.
    await engine.learn_now(ana.key)

    memory = await engine.repository.load(ana.key)
    [todo] = memory.todos.values()
    assert todo.data["task"] == "book the venue"
    assert todo.data["due"] == "2026-03-06"
    assert todo.provenance.said_at == MONDAY
    extraction = next(c for c in model.calls if c.tools)
    assert "[Mon 2026-03-02 09:30 UTC]" in extraction.last_text
    assert "Current time: Mon 2026-03-02 09:30 UTC" in extraction.system


async def test_recall_shows_when_it_was_said_and_when_it_happens(
    engine: MemoryEngine, model: ScriptedChatModel
) -> None:
    ana = person(unique("ana"))
    await engine.reply(said_on(ana, dm(ana), "Remember that I sit my exam next Monday.", MONDAY))
    await engine.reply(said_on(ana, dm(ana), "Remind me to book the venue next Friday.", MONDAY))
    await engine.learn_now(ana.key)

    thursday = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
    reply = await engine.reply(said_on(ana, dm(ana, "later"), "What is coming up?", thursday))

    assert "- I sit my exam (on 2026-03-09) [said 2026-03-02]" in reply.text
    assert "- todo: book the venue (due 2026-03-06) [said 2026-03-02]" in reply.text
    assert "Current time: Thu 2026-03-05 18:00 UTC" in model.calls[-1].system


async def test_an_update_keeps_the_newest_and_says_what_changed(engine: MemoryEngine) -> None:
    ana = person(unique("ana"))
    first = datetime(2026, 2, 15, 9, 0, tzinfo=UTC)
    await engine.reply(said_on(ana, dm(ana), "Remember that my favourite tea is sencha.", first))
    await engine.learn_now(ana.key)
    text = "Actually my favourite tea is not sencha but genmaicha."
    await engine.reply(said_on(ana, dm(ana), text, MONDAY))
    await engine.learn_now(ana.key)

    memory = await engine.repository.load(ana.key)
    [fact] = memory.facts.values()
    assert fact.data["content"] == "my favourite tea is genmaicha"
    assert [(e.text, e.said_at) for e in fact.previous] == [("my favourite tea is sencha", first)]
    reply = await engine.reply(said_on(ana, dm(ana, "q"), "Which tea do I like?", MONDAY))
    assert (
        '- my favourite tea is genmaicha [said 2026-03-02; before: "my favourite tea is sencha",'
        " said 2026-02-15]" in reply.text
    )


async def test_a_correction_does_not_keep_the_wrong_value(engine: MemoryEngine) -> None:
    ana = person(unique("ana"))
    await engine.reply(said_on(ana, dm(ana), "Remember that my team is billing.", MONDAY))
    await engine.learn_now(ana.key)

    await engine.run_command(ana, parse_command("correct not billing but payments"))

    memory = await engine.repository.load(ana.key)
    [fact] = memory.facts.values()
    assert fact.data["content"] == "my team is payments"
    assert fact.previous == []


async def test_a_todo_marked_done_is_not_a_change_of_mind(engine: MemoryEngine) -> None:
    ana = person(unique("ana"))
    await engine.reply(said_on(ana, dm(ana), "Remind me to water the plants.", MONDAY))
    await engine.learn_now(ana.key)
    await engine.reply(said_on(ana, dm(ana), "I did water the plants.", MONDAY))
    await engine.learn_now(ana.key)

    memory = await engine.repository.load(ana.key)
    [todo] = memory.todos.values()
    assert todo.data["status"] == "done"
    assert todo.previous == []


def test_recall_shows_only_the_value_replaced_last_and_keeps_it_short() -> None:
    said = [datetime(2026, 1, day, tzinfo=UTC) for day in (1, 2, 3, 4, 5)]
    item = StoredItem(
        kind="fact",
        data={"content": "my team is gamma"},
        provenance=Provenance(platform="t", conversation="c", audience="dm", said_at=said[0]),
    )
    for n, name in enumerate(["alpha", "beta", "x" * 400, "delta"]):
        updated = StoredItem(
            kind="fact",
            data={"content": f"my team is {name}"},
            provenance=Provenance(
                platform="t", conversation="c", audience="dm", said_at=said[n + 1]
            ),
        )
        updated.previous = earlier_values(item, updated, "m1")
        item = updated

    assert [e.said_at for e in item.previous] == said[1:4][::-1]  # newest first, at most 3
    line = dated(item)
    assert line.startswith('my team is delta [said 2026-01-05; before: "my team is xxx')
    assert len(line) < 200 and "beta" not in line
