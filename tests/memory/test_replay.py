"""Replaying a past conversation: turns learned at their dates, a few at a time, by audience."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from memory.engine import MemoryEngine
from memory.learning.replay import PastTurn, replay
from tests.conftest import unique
from tests.memory.helpers import channel, dm, person
from tests.scripted_model import ScriptedChatModel

SAID = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def test_past_turns_are_learned_in_batches_and_keep_their_audience(
    engine: MemoryEngine, model: ScriptedChatModel
) -> None:
    ana = person(unique("ana"))
    private, shared = dm(ana), channel(unique("team"))
    texts = [f"Remember that my code {n} is {n}{n}." for n in range(5)]
    turns = [
        PastTurn(ana, private, text, f"p{n}", SAID + timedelta(minutes=n), reply="Noted.")
        for n, text in enumerate(texts)
    ]
    turns.append(PastTurn(ana, shared, "Remember that my desk is by the window.", "c1", SAID))

    assert await replay(engine, turns, batch=2) == 6

    extractions = [c for c in model.calls if c.tools]
    # 5 DM turns in batches of 2 (2 + 2 + 1), then the channel turn on its own.
    assert len(extractions) == 4
    assert "assistant: Noted." in extractions[0].last_text
    memory = await engine.repository.load(ana.key)
    audiences = {item.data["content"]: item.audience for item in memory.facts.values()}
    assert audiences["my desk is by the window"] == "channel"
    assert {audiences[f"my code {n} is {n}{n}"] for n in range(5)} == {"dm"}
    assert not await engine.repository.list_pending(ana.key)


async def test_a_paused_person_learns_nothing_from_a_replay(engine: MemoryEngine) -> None:
    ben = person(unique("ben"))
    await engine.repository.set_paused(ben.key, True)

    await replay(engine, [PastTurn(ben, dm(ben), "Remember that I keep bees.", "b1", SAID)])

    memory = await engine.repository.load(ben.key)
    assert not memory.facts
    assert not await engine.repository.list_pending(ben.key)
