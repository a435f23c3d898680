"""The /memory operations on both backends: show, forget, forget all (checked in SQL), bad input."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import psycopg
import pytest
from langchain_core.messages import AIMessage

from bot.storage import Storage
from memory.commands.results import (
    ConfirmForgetAll,
    CorrectResult,
    ExportResult,
    ForgetAllReceipt,
    ForgetResult,
    LearningResult,
    ShowResult,
)
from memory.commands.verbs import parse_command
from memory.engine import MemoryEngine
from memory.errors import CommandError
from memory.identity import UserRef
from tests.conftest import unique
from tests.memory.helpers import channel, dm, person, say
from tests.scripted_model import ScriptedCall, ScriptedChatModel, call


async def _teach(engine: MemoryEngine, user: UserRef, *lines: str) -> None:
    for line in lines:
        await engine.reply(say(user, dm(user), line))
    await engine.learn_now(user.key)


async def _run(engine: MemoryEngine, user: UserRef, text: str):  # type: ignore[no-untyped-def]
    return await engine.run_command(user, parse_command(text))


async def _export(engine: MemoryEngine, user: UserRef) -> dict[str, object]:
    result = await _run(engine, user, "export")
    assert isinstance(result, ExportResult)
    document = json.loads(result.json_text)
    document.pop("exported_at")
    return dict(document)


async def test_show_lists_items_with_ids_and_provenance(engine: MemoryEngine) -> None:
    alice = person(unique("alice"))
    await _teach(
        engine, alice, "My name is Alice", "Remember that I keep bees", "Remind me to buy wax"
    )

    result = await _run(engine, alice, "show")

    assert isinstance(result, ShowResult)
    assert [v.text for v in result.facts] == ["I keep bees"]
    assert [v.text for v in result.todos] == ["buy wax"]
    fact = result.facts[0]
    assert len(fact.id) == 5 and fact.audience == "dm" and fact.platform == "test"
    assert f"[{fact.id}] I keep bees" in result.as_text()
    assert "learned in a DM" in result.as_text()
    only_todos = await _run(engine, alice, "show todos")
    assert only_todos.facts == [] and len(only_todos.todos) == 1


async def test_forget_one_item_by_id(engine: MemoryEngine) -> None:
    alice = person(unique("alice"))
    await _teach(engine, alice, "Remember that I keep bees", "Remember that I ski")
    shown = await _run(engine, alice, "show facts")
    bees = next(v for v in shown.facts if "bees" in v.text)

    result = await _run(engine, alice, f"forget {bees.id}")

    assert isinstance(result, ForgetResult) and result.item.text == "I keep bees"
    after = await _run(engine, alice, "show facts")
    assert [v.text for v in after.facts] == ["I ski"]


async def test_correct_patches_instead_of_regenerating(engine: MemoryEngine) -> None:
    alice = person(unique("alice"))
    await _teach(engine, alice, "Remember that I work on billing", "Remember that I ski")
    before = {v.text: v.id for v in (await _run(engine, alice, "show facts")).facts}

    result = await _run(engine, alice, "correct not billing but payments")

    assert isinstance(result, CorrectResult)
    after = {v.text: v.id for v in (await _run(engine, alice, "show facts")).facts}
    assert after == {"I work on payments": before["I work on billing"], "I ski": before["I ski"]}
    assert [v.text for v in result.changed] == ["I work on payments"]


async def test_pause_stops_learning_and_resume_restarts_it(engine: MemoryEngine) -> None:
    alice = person(unique("alice"))
    assert (await _run(engine, alice, "pause")) == LearningResult(paused=True)
    await _teach(engine, alice, "Remember that I keep bees")
    assert (await _run(engine, alice, "show")).facts == []

    assert (await _run(engine, alice, "resume")) == LearningResult(paused=False)
    await _teach(engine, alice, "Remember that I ski")
    assert [v.text for v in (await _run(engine, alice, "show")).facts] == ["I ski"]


async def test_pause_drops_what_was_pending(engine: MemoryEngine) -> None:
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "Remember that I keep bees"))
    await _run(engine, alice, "pause")
    await _run(engine, alice, "resume")
    await engine.learn_now(alice.key)
    assert (await _run(engine, alice, "show")).facts == []


def _rows_for(
    storage: Storage,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    user: UserRef,
    threads: list[str],
) -> dict[str, int]:
    """Rows left for the user, counted straight from the database tables (all but the erasure
    marker, which forget all keeps: tokens only, see test_erasure.py)."""
    prefix = f"users.{user.key}"
    if storage.kind == "postgres":
        url = request.getfixturevalue("postgres_url")
        with psycopg.connect(url) as conn:
            counts = {
                "store": conn.execute(
                    "SELECT count(*) FROM store WHERE (prefix = %s OR prefix LIKE %s)"
                    " AND prefix != %s",
                    (prefix, prefix + ".%", prefix + ".erasure"),
                ).fetchone()[0],  # type: ignore[index]
            }
            for table in ("checkpoints", "checkpoint_blobs", "checkpoint_writes"):
                counts[table] = conn.execute(
                    f"SELECT count(*) FROM {table} WHERE thread_id = ANY(%s)", (threads,)
                ).fetchone()[0]  # type: ignore[index]
            return counts
    data = tmp_path / "data"
    with sqlite3.connect(data / "memory.sqlite") as conn:
        counts = {
            "store": conn.execute(
                "SELECT count(*) FROM store WHERE (prefix = ? OR prefix LIKE ?) AND prefix != ?",
                (prefix, prefix + ".%", prefix + ".erasure"),
            ).fetchone()[0]
        }
    with sqlite3.connect(data / "checkpoints.sqlite") as conn:
        for table in ("checkpoints", "writes"):
            marks = ",".join("?" * len(threads))
            counts[table] = conn.execute(
                f"SELECT count(*) FROM {table} WHERE thread_id IN ({marks})", threads
            ).fetchone()[0]
    return counts


async def test_forget_all_leaves_no_row_for_the_user(
    engine: MemoryEngine, storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    alice = person(unique("alice"))
    bob = person(alice.id + "2")  # a key that shares alice's as a prefix must survive
    room = channel(unique("room"))
    await _teach(
        engine, alice, "My name is Alice", "Remember that I keep bees", "Remind me to call"
    )
    await engine.reply(say(alice, room, "Remember that I own the pipeline"))
    await engine.reply(say(alice, dm(alice, "two"), "Remember that I ski"))  # still pending
    await _teach(engine, bob, "Remember that I like tea")
    threads = [dm(alice).key, dm(alice, "two").key]
    before = _rows_for(storage, request, tmp_path, alice, threads)
    assert before["store"] > 0 and before["checkpoints"] > 0

    confirm = await _run(engine, alice, "forget all")
    assert isinstance(confirm, ConfirmForgetAll)
    assert _rows_for(storage, request, tmp_path, alice, threads) == before  # asking deletes nothing
    receipt = await _run(engine, alice, "forget all confirm")

    assert isinstance(receipt, ForgetAllReceipt)
    assert receipt.deleted["facts"] == 1 and receipt.deleted["todos"] == 1
    assert receipt.deleted["pending"] == 2 and receipt.conversations == 2
    assert set(_rows_for(storage, request, tmp_path, alice, threads).values()) == {0}
    assert [v.text for v in (await _run(engine, bob, "show")).facts] == ["I like tea"]
    await engine.learn_now(alice.key)  # nothing pending survives to be learned later
    assert (await _run(engine, alice, "show")).empty


@pytest.mark.parametrize(
    "text",
    ["dance", "forget", "forget nosuch", "forget a b", "show everything", "x" * 10_000, "correct"],
)
async def test_bad_input_gets_a_clear_message_and_changes_nothing(
    engine: MemoryEngine, text: str
) -> None:
    alice = person(unique("alice"))
    await _teach(engine, alice, "Remember that I keep bees")
    before = await _export(engine, alice)

    with pytest.raises(CommandError) as refused:
        await _run(engine, alice, text)

    assert refused.value.message
    assert len(refused.value.message) < 1500  # the reason and the usage, no more
    assert await _export(engine, alice) == before


async def test_empty_command_shows_help(engine: MemoryEngine) -> None:
    result = await _run(engine, person(unique("alice")), "   ")
    assert "/memory forget <id>" in result.as_text()


async def test_another_users_id_is_unknown_and_untouched(engine: MemoryEngine) -> None:
    alice, mallory = person(unique("alice")), person(unique("mallory"))
    await _teach(engine, alice, "Remember that I keep bees")
    bees = (await _run(engine, alice, "show facts")).facts[0]

    with pytest.raises(CommandError, match="no memory with id"):
        await _run(engine, mallory, f"forget {bees.id}")

    assert [v.id for v in (await _run(engine, alice, "show facts")).facts] == [bees.id]


async def test_a_model_that_never_fixes_its_update_leaves_memory_unchanged(
    engine: MemoryEngine, model: ScriptedChatModel
) -> None:
    alice = person(unique("alice"))
    await _teach(engine, alice, "My name is Alice", "Remember that I keep bees")
    before = await _export(engine, alice)

    def stubborn(request: ScriptedCall) -> AIMessage:
        if "PatchFunctionErrors" in request.tools:  # asked to repair: repairs nothing
            bad = request.messages[-1].tool_call_id  # type: ignore[attr-defined]
            fix = call("PatchFunctionErrors", json_doc_id=bad, planned_edits="-", patches=[])
            return AIMessage(content="", tool_calls=[fix])
        if request.tools:  # an update that can never validate
            return AIMessage(content="", tool_calls=[call("Todo", task="", status="soon")])
        return AIMessage(content="ok")

    model.script = stubborn
    await engine.reply(say(alice, dm(alice), "Remind me to do something"))
    await engine.learn_now(alice.key)

    assert await _export(engine, alice) == before
    assert await engine.repository.list_pending(alice.key) == {}  # skipped, not retried forever
