"""Memory that stays clean: duplicates, caps, retention, todos, attribution, history, relevance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from langchain_core.messages import AIMessage

from bot.storage import Storage
from memory.agent.prompt import memory_block
from memory.agent.relevance import rank
from memory.commands.results import HistoryResult, ShowResult
from memory.commands.verbs import parse_command
from memory.engine import EngineConfig, MemoryEngine
from memory.policy import MemoryPolicy
from memory.schemas import Provenance, StoredItem
from memory.storage.namespaces import user_namespace
from tests.conftest import engine_on, unique
from tests.memory.helpers import dm, person, say
from tests.rules import existing_docs, memory_script
from tests.scripted_model import ScriptedCall, ScriptedChatModel, call


def _engine(storage: Storage, model: ScriptedChatModel, policy: MemoryPolicy) -> MemoryEngine:
    return engine_on(
        storage,
        model,
        config=EngineConfig(quiet_seconds=3600, every_messages=10_000, policy=policy),
    )


async def _show(engine: MemoryEngine, user: Any, text: str = "show") -> ShowResult:
    result = await engine.run_command(user, parse_command(text))
    assert isinstance(result, ShowResult)
    return result


async def test_saying_the_same_thing_five_times_leaves_one_memory(storage: Storage) -> None:
    # A careless model that inserts the fact again every time it hears it.
    def careless(request: ScriptedCall) -> AIMessage:
        if request.tools:
            return AIMessage(content="", tool_calls=[call("Fact", content="I keep bees.")])
        return AIMessage(content="ok")

    engine = _engine(storage, ScriptedChatModel(script=careless), MemoryPolicy())
    alice = person(unique("alice"))
    for _ in range(5):
        await engine.reply(say(alice, dm(alice), "I keep bees"))
        await engine.learn_now(alice.key)

    assert [v.text for v in (await _show(engine, alice)).facts] == ["I keep bees."]


def _consolidating(request: ScriptedCall) -> AIMessage:
    """Learns facts by the rules; asked to consolidate, removes the facts marked 'dup'."""
    if "keep at most" in request.last_text:
        docs = existing_docs(request.system)
        removals = [
            call("RemoveDoc", json_doc_id=doc_id)
            for doc_id, (_, data) in docs.items()
            if "dup" in str(data.get("content"))
        ]
        return AIMessage(content="", tool_calls=removals)
    return memory_script(request)


async def test_the_cap_is_kept_by_consolidation(storage: Storage) -> None:
    model = ScriptedChatModel(script=_consolidating)
    engine = _engine(storage, model, MemoryPolicy(max_facts=3))
    alice = person(unique("alice"))
    for text in ("I keep bees", "I keep bees dup", "I ski", "I ski dup", "I cook"):
        await engine.reply(say(alice, dm(alice), f"Remember that {text}"))
    await engine.learn_now(alice.key)

    facts = sorted(v.text for v in (await _show(engine, alice)).facts)
    assert facts == ["I cook", "I keep bees", "I ski"]
    assert any("keep at most 3" in c.last_text for c in model.calls)


async def test_the_cap_holds_even_when_the_model_does_not_consolidate(storage: Storage) -> None:
    engine = _engine(storage, ScriptedChatModel(script=memory_script), MemoryPolicy(max_facts=2))
    alice = person(unique("alice"))
    for text in ("I keep bees", "I ski", "I cook"):
        await engine.reply(say(alice, dm(alice), f"Remember that {text}"))
        await engine.learn_now(alice.key)

    facts = sorted(v.text for v in (await _show(engine, alice)).facts)
    assert facts == ["I cook", "I ski"]  # the oldest made room


async def test_todos_open_done_and_expired(storage: Storage) -> None:
    model = ScriptedChatModel(script=memory_script)
    engine = _engine(storage, model, MemoryPolicy(open_todo_days=0, finished_todo_days=1))
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "Remind me to buy wax"))
    await engine.reply(say(alice, dm(alice), "Remind me to call Jo"))
    await engine.learn_now(alice.key)
    await engine.reply(say(alice, dm(alice), "I did buy wax"))
    await engine.learn_now(alice.key)

    todos = {v.text: v.state for v in (await _show(engine, alice, "show todos")).todos}
    # With open_todo_days=0 an open todo is already past its time.
    assert todos == {"buy wax": "done", "call Jo": "expired"}
    assert "[done]" in (await _show(engine, alice, "show todos")).as_text()
    reply = await engine.reply(say(alice, dm(alice), "What should I do?"))
    assert "buy wax" not in reply.text and "call Jo" not in reply.text

    swept = await engine.learner.housekeeping.sweep(
        alice.key, now=datetime.now(UTC) + timedelta(days=2)
    )
    assert swept == 2
    assert (await _show(engine, alice, "show todos")).todos == []


async def test_open_todos_are_recalled_while_they_are_current(engine: MemoryEngine) -> None:
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "Remind me to renew my passport"))
    await engine.learn_now(alice.key)
    reply = await engine.reply(say(alice, dm(alice, "two"), "anything to do?"))
    assert "todo: renew my passport" in reply.text


async def test_a_fact_about_someone_else_is_not_stored(engine: MemoryEngine) -> None:
    alice, bob = person(unique("alice")), person(unique("bob"))
    await engine.reply(say(alice, dm(alice), "Remember that Bob hates meetings"))
    await engine.reply(say(alice, dm(alice), "Remember that I love meetings"))
    await engine.learn_now(alice.key)

    assert [v.text for v in (await _show(engine, alice)).facts] == ["I love meetings"]
    assert (await _show(engine, bob)).empty


async def test_history_records_changes_and_forget_erases_them(engine: MemoryEngine) -> None:
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "Remember that I work on billing"))
    await engine.reply(say(alice, dm(alice), "Remember that I ski"))
    await engine.learn_now(alice.key)
    await engine.run_command(alice, parse_command("correct not billing but payments"))

    history = await engine.run_command(alice, parse_command("history"))
    assert isinstance(history, HistoryResult)
    changes = [(e.change, e.text) for e in history.entries]
    assert ("added", "I work on billing") in changes
    assert ("changed", "I work on billing -> I work on payments") in changes
    assert "correction" in history.as_text()

    job = next(v for v in (await _show(engine, alice)).facts if "payments" in v.text)
    await engine.run_command(alice, parse_command(f"forget {job.id}"))
    after = await engine.run_command(alice, parse_command("history"))
    assert "billing" not in after.as_text() and "payments" not in after.as_text()
    assert "I ski" in after.as_text()

    await engine.run_command(alice, parse_command("forget all confirm"))
    emptied = await engine.run_command(alice, parse_command("history"))
    assert isinstance(emptied, HistoryResult) and emptied.entries == []


def _fact(text: str, minutes_ago: int = 0) -> StoredItem:
    item = StoredItem(
        kind="fact",
        data={"content": text},
        provenance=Provenance(platform="test", conversation="c", audience="dm"),
    )
    item.updated_at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return item


def test_lexical_relevance_picks_the_memories_that_match() -> None:
    items = {f"f{n:02d}": _fact(f"I once visited town number {n}", n) for n in range(40)}
    items["bees"] = _fact("I keep bees in my garden", 500)
    items["honey"] = _fact("My bees make honey every summer", 600)

    picked = [key for key, _ in rank("how are your bees doing?", items, limit=3, max_chars=500)]

    assert picked[:2] == ["bees", "honey"] or picked[:2] == ["honey", "bees"]
    assert len(rank("anything", items, limit=50, max_chars=100)) <= 5  # the size budget holds


async def test_recall_is_bounded_for_a_user_with_many_memories(engine: MemoryEngine) -> None:
    alice = person(unique("alice"))
    for n in range(60):
        await engine.repository.put(alice.key, "facts", f"k{n:03d}", _fact(f"fact {n} " * 10))
    await engine.repository.put(alice.key, "facts", "bees", _fact("I keep bees"))
    block = memory_block(await engine.repository.load(alice.key), "dm", "tell me about bees")
    assert "I keep bees" in block.splitlines()[0]
    assert len(block) <= 2500


async def test_a_document_from_an_older_version_loads_and_is_upgraded(
    engine: MemoryEngine,
) -> None:
    alice = person(unique("alice"))
    # Version 0 kept the schema fields at the top level, with no provenance.
    await engine.store.aput(
        user_namespace(alice.key, "facts"), "old01", {"kind": "fact", "content": "I keep bees"}
    )
    shown = (await _show(engine, alice)).facts
    assert [(v.id, v.text) for v in shown] == [("old01", "I keep bees")]
    memory = await engine.repository.load(alice.key)
    assert memory.facts["old01"].schema_version == 1


async def test_learning_shows_the_model_a_bounded_relevant_slice_of_memory(
    engine: MemoryEngine, model: ScriptedChatModel
) -> None:
    alice = person(unique("alice"))
    for n in range(200):
        await engine.repository.put(alice.key, "facts", f"k{n:03d}", _fact(f"I visited town {n}"))
    await engine.repository.put(alice.key, "facts", "bees1", _fact("I keep bees on the roof"))

    await engine.reply(say(alice, dm(alice), "Remember that my bees swarmed today"))
    await engine.learn_now(alice.key)

    extraction = next(c for c in model.calls if c.tools)
    shown = existing_docs(extraction.system)
    assert len(shown) <= 60
    assert "bees1" in shown  # the related memory is among what the model may update
