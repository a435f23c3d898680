"""Undo: a learning round's change set is taken back by its owner only, only while nothing
newer touched the same items, and never brings back anything forgotten."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from bot.storage import Storage
from memory.commands.results import ForgetResult, UndoResult, WhyResult
from memory.commands.verbs import MemoryCommand
from memory.engine import EngineConfig, MemoryEngine
from memory.identity import UserRef
from memory.learning.changesets import UNDO_WINDOW, MemoryChanged
from memory.messages import MessageDeleted
from memory.policy import MemoryPolicy
from tests.conftest import MANUAL, engine_on, unique
from tests.memory.helpers import dm, person, say
from tests.memory.scan import places
from tests.rules import existing_docs, memory_script
from tests.scripted_model import ScriptedCall, ScriptedChatModel, call

# Fresh people per test: the PostgreSQL database is shared by the whole run.
ALICE, BOB = person("alice"), person("bob")


@pytest.fixture(autouse=True)
def people(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(globals(), "ALICE", person(unique("alice")))
    monkeypatch.setitem(globals(), "BOB", person(unique("bob")))


async def tell(engine: MemoryEngine, text: str, user: UserRef | None = None) -> None:
    user = user or ALICE
    await engine.reply(say(user, dm(user), text))
    await engine.learn_now(user.key)


async def undo(
    engine: MemoryEngine, change_id: str | None = None, user: UserRef | None = None
) -> UndoResult:
    result = await engine.run_command(user or ALICE, MemoryCommand("undo", item_id=change_id))
    assert isinstance(result, UndoResult)
    return result


def watch(engine: MemoryEngine) -> list[MemoryChanged]:
    """The "memory updated" notices `engine` sends from now on, in order."""
    notices: list[MemoryChanged] = []

    async def seen(changed: MemoryChanged) -> None:
        notices.append(changed)

    engine.on_changed(seen)
    return notices


async def facts(engine: MemoryEngine) -> list[str]:
    memory = await engine.repository.load(ALICE.key)
    return sorted(str(f.data["content"]) for f in memory.facts.values())


async def test_undo_reverts_an_insert_a_patch_and_a_profile_value(engine: MemoryEngine) -> None:
    notices = watch(engine)
    await tell(engine, "Remember that I keep bees.")
    await tell(engine, "Btw i live in Porto.")
    await tell(engine, "Btw i moved to Lisbon.")
    await tell(engine, "It is not bees but wasps.")
    assert await facts(engine) == ["I keep wasps"]
    assert [n.summary() for n in notices] == [
        "I keep bees",
        "location: Porto",
        "location: Lisbon",
        "I keep wasps",
    ]
    assert all(n.undoable and n.user_key == ALICE.key for n in notices)

    patched = await undo(engine)
    assert patched.reason == "done" and await facts(engine) == ["I keep bees"]
    moved = await undo(engine)
    assert moved.reason == "done"
    memory = await engine.repository.load(ALICE.key)
    assert memory.merged_profile()["location"] == "Porto"
    await undo(engine)  # Porto
    inserted = await undo(engine)
    assert inserted.reason == "done" and await facts(engine) == []
    memory = await engine.repository.load(ALICE.key)
    assert "location" not in memory.merged_profile()
    assert (await undo(engine)).reason == "gone"
    history = await engine.run_command(ALICE, MemoryCommand("history"))
    assert "(undo)" in history.as_text()


async def test_only_the_owner_can_undo_and_nothing_newer_is_overwritten(
    engine: MemoryEngine,
) -> None:
    await tell(engine, "Remember that I keep bees.")
    [first] = await engine.repository.change_sets(ALICE.key)
    await tell(engine, "It is not bees but wasps.")

    # Bob pressing Alice's Undo: her change set is not in his memory.
    refused = await undo(engine, first.id, user=BOB)
    assert refused.reason == "gone"
    # The insert was patched since: undoing it would lose the newer change.
    blocked = await undo(engine, first.id)
    assert blocked.reason == "changed" and "I keep bees" in blocked.as_text()
    assert await facts(engine) == ["I keep wasps"]


async def test_forget_drops_the_before_states_and_undo_never_restores_it(
    engine: MemoryEngine,
) -> None:
    await tell(engine, "Remember that I keep bees.")
    await tell(engine, "It is not bees but wasps.")
    [fact_id] = (await engine.repository.load(ALICE.key)).facts
    await engine.run_command(ALICE, MemoryCommand("forget", item_id=fact_id))

    stored = str([s.model_dump() for s in await engine.repository.change_sets(ALICE.key)])
    assert "bees" not in stored and "wasps" not in stored
    assert (await undo(engine)).reason == "forgotten"
    assert await facts(engine) == []

    await tell(engine, "Remember that I play chess.")
    assert await engine.repository.change_sets(ALICE.key)
    await engine.run_command(ALICE, MemoryCommand("forget_all", confirmed=True))
    assert await engine.repository.change_sets(ALICE.key) == []


async def test_a_removal_the_person_asked_for_has_no_undo(engine: MemoryEngine) -> None:
    notices: list[MemoryChanged] = []

    async def seen(changed: MemoryChanged) -> None:
        notices.append(changed)

    await tell(engine, "Remember that I keep bees.")
    engine.on_changed(seen)
    await tell(engine, "Please forget that I keep bees.")

    [notice] = notices
    assert not notice.undoable and notice.summary() == "forgot 1 thing"
    # Forgetting dropped the insert's undo, and is final itself.
    assert (await undo(engine)).reason == "forgotten"
    assert await facts(engine) == []


async def test_change_sets_expire_after_the_undo_window(engine: MemoryEngine) -> None:
    await tell(engine, "Remember that I keep bees.")
    [kept] = await engine.repository.change_sets(ALICE.key)
    old = kept.model_copy(update={"at": datetime.now(UTC) - UNDO_WINDOW - timedelta(minutes=1)})
    await engine.repository.drop_change_set(ALICE.key, kept.id)
    await engine.repository.add_change_set(ALICE.key, old)

    await engine.sweep()  # the hourly sweep drops before-states past the window
    assert await engine.store.asearch(("users", ALICE.key, "changes")) == []
    assert (await undo(engine)).reason == "gone"
    assert await facts(engine) == ["I keep bees"]


async def test_why_names_the_message_its_words_and_history(engine: MemoryEngine) -> None:
    await tell(engine, "hello")
    await tell(engine, "Remember that I keep bees.")
    [fact_id] = (await engine.repository.load(ALICE.key)).facts

    why = await engine.run_command(ALICE, MemoryCommand("why", item_id=fact_id))

    assert isinstance(why, WhyResult)
    assert why.words == "Remember that I keep bees."
    assert [e.change for e in why.history] == ["added"]
    assert "I keep bees" in why.as_text() and "you said" in why.as_text()


async def test_undo_puts_back_a_removal_the_model_made_on_its_own(engine: MemoryEngine) -> None:
    notices: list[MemoryChanged] = []

    async def seen(changed: MemoryChanged) -> None:
        notices.append(changed)

    await tell(engine, "Remember that I keep bees.")
    [fact_id] = (await engine.repository.load(ALICE.key)).facts
    engine.on_changed(seen)
    await tell(engine, "I no longer keep bees.")  # contradicted, not asked to be forgotten

    [notice] = notices
    assert notice.undoable and notice.summary() == "removed I keep bees" and not notice.forgotten
    assert await facts(engine) == []
    restored = await undo(engine)
    assert restored.reason == "done" and restored.reverted == ["I keep bees"]
    memory = await engine.repository.load(ALICE.key)
    assert list(memory.facts) == [fact_id]  # the same item, under its id
    history = await engine.run_command(ALICE, MemoryCommand("history"))
    assert "added [" in history.as_text() and "(undo)" in history.as_text()


async def test_a_removal_beside_a_forget_request_is_erased_not_undoable(
    engine: MemoryEngine,
) -> None:
    await tell(engine, "Remember that I keep bees.")
    await engine.reply(say(ALICE, dm(ALICE), "I no longer keep bees."))
    await tell(engine, "Also forget that nothing.")  # one batch that asks to forget

    assert await facts(engine) == []
    stored = str([s.model_dump() for s in await engine.repository.change_sets(ALICE.key)])
    assert "bees" not in stored
    history = await engine.run_command(ALICE, MemoryCommand("history"))
    assert "bees" not in history.as_text()


@pytest.mark.parametrize(
    "asking",
    [
        "Don\u2019t remember that, please.",  # the apostrophe phones and Slack type
        "Please drop the thing about it.",
        "Scrap that.",
        "Get rid of that one.",
        "You don\u2019t need to know that.",
        "Unremember it.",
        "Purge it.",
    ],
)
async def test_asking_to_forget_in_other_words_erases_too(
    engine: MemoryEngine, asking: str
) -> None:
    # The model removes the fact on its own ("I no longer ..."); the same batch asks for it to
    # be forgotten in words other than "forget": an erasure, with no text left to undo.
    await tell(engine, "Remember that I keep bees.")
    await engine.reply(say(ALICE, dm(ALICE), "I no longer keep bees."))
    await tell(engine, asking)

    assert await facts(engine) == []
    stored = str([s.model_dump() for s in await engine.repository.change_sets(ALICE.key)])
    assert "bees" not in stored
    history = await engine.run_command(ALICE, MemoryCommand("history"))
    assert "bees" not in history.as_text()
    assert (await undo(engine)).reason == "forgotten"


async def test_cap_and_consolidation_removals_are_named_and_undone(storage: Storage) -> None:
    def consolidating(request: ScriptedCall) -> AIMessage:
        if "keep at most" in request.last_text:
            docs = existing_docs(request.system)
            dups = [k for k, (_, data) in docs.items() if "dup" in str(data.get("content"))]
            return AIMessage(content="", tool_calls=[call("RemoveDoc", json_doc_id=dups[0])])
        return memory_script(request)

    config = EngineConfig(
        quiet_seconds=3600, every_messages=10_000, policy=MemoryPolicy(max_facts=2)
    )
    engine = engine_on(storage, ScriptedChatModel(script=consolidating), config=config)
    notices = watch(engine)
    for text in ("I keep bees", "I ski"):
        await tell(engine, f"Remember that {text}")
    # Over the cap: the model merges the duplicate away, the oldest item makes room.
    await engine.reply(say(ALICE, dm(ALICE), "Remember that I keep bees dup"))
    await tell(engine, "Remember that I cook")
    try:
        assert await facts(engine) == ["I cook", "I ski"]
        summary = notices[-1].summary()
        assert summary.startswith("I cook; removed ") and "removed I keep bees" in summary
        assert notices[-1].undoable
        assert "I keep bees dup" not in summary  # added and merged away in one round: no change

        undone = await undo(engine)
        assert undone.reason == "done"
        assert await facts(engine) == ["I keep bees", "I ski"]
    finally:
        await engine.scheduler.close()


async def test_forgetting_the_id_of_an_undone_insert_erases_its_history(
    engine: MemoryEngine,
) -> None:
    # Undone, the fact is no longer remembered, but its history still says what it was:
    # forgetting its id (the one /memory history shows) erases that too.
    await tell(engine, "Remember that I take insulin.")
    [fact_id] = (await engine.repository.load(ALICE.key)).facts
    assert (await undo(engine)).reason == "done"
    history = await engine.run_command(ALICE, MemoryCommand("history"))
    assert "insulin" in history.as_text()

    forgotten = await engine.run_command(ALICE, MemoryCommand("forget", item_id=fact_id))
    assert isinstance(forgotten, ForgetResult) and "insulin" in forgotten.as_text()
    history = await engine.run_command(ALICE, MemoryCommand("history"))
    assert "insulin" not in history.as_text()
    stored = str([s.model_dump() for s in await engine.repository.change_sets(ALICE.key)])
    assert "insulin" not in stored


async def test_undo_typed_right_after_telling_undoes_the_newest_message(
    engine: MemoryEngine,
) -> None:
    # "/memory undo" means what was just said: pending learning runs first, so the change set
    # it takes back is that message's, not the one before it.
    await tell(engine, "Remember that I keep bees.")
    await engine.reply(say(ALICE, dm(ALICE), "Remember that I play chess."))
    undone = await undo(engine)
    assert undone.reason == "done" and undone.reverted == ["I play chess"]
    assert await facts(engine) == ["I keep bees"]


async def test_a_platform_delete_takes_the_message_out_of_history_and_undo(
    storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    engine = engine_on(storage)
    try:
        await tell(engine, "Remember that I keep Wugs.")
        patch = say(ALICE, dm(ALICE), "It is not Wugs but Snarkles.")
        await engine.reply(patch)
        # Learned (by the undo, which learns what is pending first), then taken back: the
        # patch's words are in history only, which a platform delete of it must reach.
        assert (await undo(engine)).reverted == ["I keep Snarkles"]
        await tell(engine, "Remember that I ride Quibbits.")
        told = (await engine.repository.change_sets(ALICE.key))[-1]

        await engine.message_deleted(
            MessageDeleted(patch.conversation, (patch.message_id,), author=ALICE)
        )
        assert places(storage, request, tmp_path, "Snarkles") == []
        deleted = MessageDeleted(dm(ALICE), (told.message_id,), author=ALICE)
        await engine.message_deleted(deleted)

        # What was learned from it stays (README), but no record of the message's words does.
        assert await facts(engine) == ["I keep Wugs", "I ride Quibbits"]
        history = await engine.repository.history(ALICE.key)
        assert [e.cause for e in history.values() if "Quibbits" in e.text] == []
        assert "Quibbits" not in str(await engine.repository.change_sets(ALICE.key))
        assert "Wugs" in str(history)  # the first message was not deleted: its history stays
    finally:
        await engine.scheduler.close()


async def test_why_after_an_undo_names_the_message_now_in_effect(engine: MemoryEngine) -> None:
    await tell(engine, "I live in Porto.")
    await tell(engine, "I moved to Lisbon.")
    assert (await undo(engine)).reason == "done"  # Lisbon
    first = say(ALICE, dm(ALICE), "Remember that I keep bees.")
    await engine.reply(first)
    await engine.learn_now(ALICE.key)
    await tell(engine, "It is not bees but wasps.")
    assert (await undo(engine)).reason == "done"  # wasps
    [fact_id] = (await engine.repository.load(ALICE.key)).facts

    why = await engine.run_command(ALICE, MemoryCommand("why", item_id=fact_id))
    assert isinstance(why, WhyResult)
    assert why.message_id == first.message_id and why.words == "Remember that I keep bees."
    where = await engine.run_command(ALICE, MemoryCommand("why", item_id="location"))
    assert isinstance(where, WhyResult) and where.words == "I live in Porto."


async def test_history_says_what_an_undo_brought_back(engine: MemoryEngine) -> None:
    await tell(engine, "Remember that I keep bees.")
    await tell(engine, "I no longer keep bees.")
    await undo(engine)
    await tell(engine, "It is not bees but wasps.")
    await undo(engine)
    await tell(engine, "I live in Porto.")
    await tell(engine, "I moved to Lisbon.")
    await undo(engine)

    history = await engine.run_command(ALICE, MemoryCommand("history"))
    lines = history.as_text().splitlines()
    assert any("added [" in line and "restored: I keep bees (undo)" in line for line in lines)
    assert any("I keep wasps -> I keep bees (undo)" in line for line in lines)
    assert any("location: Lisbon -> Porto (undo)" in line for line in lines)


@pytest.mark.parametrize("how", ["chat", "correct"])
async def test_asking_to_forget_what_the_model_already_removed_erases_its_words(
    storage: Storage, request: pytest.FixtureRequest, tmp_path: Path, how: str
) -> None:
    engine = engine_on(storage)
    notices: list[MemoryChanged] = []

    async def seen(changed: MemoryChanged) -> None:
        notices.append(changed)

    try:
        await tell(engine, "Remember that I keep Zorblats.")
        await tell(engine, "Remember that I play chess.")
        await tell(engine, "I no longer keep Zorblats.")  # the model's own removal: undoable
        engine.on_changed(seen)
        asking = "Please forget that I keep Zorblats."
        if how == "chat":
            await tell(engine, asking)
            assert [n.summary() for n in notices] == ["forgot 1 thing"]
        else:
            corrected = await engine.run_command(ALICE, MemoryCommand("correct", text=asking))
            assert "removed 1 item" in corrected.as_text()

        # Nothing learned still holds it; its history, its Undo state and the messages go.
        assert places(storage, request, tmp_path, "Zorblats") == []
        assert await facts(engine) == ["I play chess"]
        history = await engine.run_command(ALICE, MemoryCommand("history"))
        assert "I play chess" in history.as_text() and "(forgotten)" in history.as_text()
        # Its Undo is untouched (a bare undo refuses: the newest change was a forget).
        assert (await undo(engine)).reason == "forgotten"
        sets = await engine.repository.change_sets(ALICE.key)
        chess = next(s for s in sets if "I play chess" in str(s.model_dump()))
        assert (await undo(engine, chess.id)).reverted == ["I play chess"]
    finally:
        await engine.scheduler.close()


async def test_forgetting_an_edited_item_erases_every_version_of_it(
    storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    engine = engine_on(storage)
    try:
        await tell(engine, "Remember that I work at Acmeqq.")
        await tell(engine, "hello")  # the reply repeats what is remembered then
        # A correction says the old value was wrong: the item keeps no earlier value of it.
        await engine.run_command(
            ALICE, MemoryCommand("correct", text="It is not Acmeqq but Globexqq.")
        )
        await tell(engine, "I live in Portoqq.")
        await tell(engine, "hi")
        await engine.run_command(ALICE, MemoryCommand("correct", text="I live in Lisbonqq."))
        [fact_id] = (await engine.repository.load(ALICE.key)).facts

        await engine.run_command(ALICE, MemoryCommand("forget", item_id=fact_id))
        await engine.run_command(ALICE, MemoryCommand("forget", item_id="location"))

        for word in ("Acmeqq", "Globexqq", "Portoqq", "Lisbonqq"):
            assert places(storage, request, tmp_path, word) == [], word
    finally:
        await engine.scheduler.close()


async def test_asking_to_forget_one_dropped_thing_leaves_the_others_history(
    engine: MemoryEngine,
) -> None:
    for text in ("Remember that I keep bees.", "Remember that I play chess."):
        await tell(engine, text)
    for text in ("I no longer keep bees.", "I no longer play chess."):
        await tell(engine, text)
    await tell(engine, "Please forget that I play chess.")

    history = (await engine.run_command(ALICE, MemoryCommand("history"))).as_text()
    assert "chess" not in history and "I keep bees" in history


async def test_why_names_the_message_an_item_now_says_even_once_it_is_deleted(
    engine: MemoryEngine,
) -> None:
    await tell(engine, "Remember that I keep bees.")
    patch = say(ALICE, dm(ALICE), "It is not bees but wasps.")
    await engine.reply(patch)
    await engine.learn_now(ALICE.key)
    await engine.message_deleted(
        MessageDeleted(patch.conversation, (patch.message_id,), author=ALICE)
    )
    [fact_id] = (await engine.repository.load(ALICE.key)).facts

    why = await engine.run_command(ALICE, MemoryCommand("why", item_id=fact_id))
    # "I keep wasps" came from the deleted message: named, and its words are gone with it.
    assert isinstance(why, WhyResult) and why.item.text == "I keep wasps"
    assert why.message_id == patch.message_id and why.words is None


async def test_undo_while_learning_outlasts_the_wait_undoes_nothing(storage: Storage) -> None:
    engine = engine_on(storage, config=replace(MANUAL, show_wait_seconds=0))
    try:
        await tell(engine, "Remember that I keep bees.")
        await engine.reply(say(ALICE, dm(ALICE), "Remember that I play chess."))
        # "The latest" is not known yet: the bees are not taken back in its place.
        waiting = await undo(engine)
        assert waiting.reason == "learning" and "still learning" in waiting.as_text()
        await engine.learn_now(ALICE.key)
        assert await facts(engine) == ["I keep bees", "I play chess"]
        assert (await undo(engine)).reverted == ["I play chess"]
    finally:
        await engine.scheduler.close()


@pytest.mark.parametrize("how", ["asked in chat", "forget command"])
async def test_undo_after_a_forget_takes_back_nothing_older(engine: MemoryEngine, how: str) -> None:
    await tell(engine, "Remember that I keep zebrafish.")
    await tell(engine, "Remember that I play chess.")
    if how == "asked in chat":
        await tell(engine, "Please forget that I keep zebrafish.")
    else:
        memory = await engine.repository.load(ALICE.key)
        [fish] = [k for k, f in memory.facts.items() if "zebrafish" in str(f.data)]
        await engine.run_command(ALICE, MemoryCommand("forget", item_id=fish))
    assert await facts(engine) == ["I play chess"]

    refused = await undo(engine)
    # The latest change was a forget, which is final: nothing learned before it is taken back.
    assert refused.reason == "forgotten" and refused.reverted == []
    assert "nothing" in refused.as_text() and "chess" not in refused.as_text()
    assert await facts(engine) == ["I play chess"]
    stored = str([s.model_dump() for s in await engine.repository.change_sets(ALICE.key)])
    assert "zebrafish" not in stored

    # Learning after the forget is the latest again.
    await tell(engine, "Remember that I keep bees.")
    assert (await undo(engine)).reason == "done"
    assert await facts(engine) == ["I play chess"]


async def test_each_undo_says_what_it_did(engine: MemoryEngine) -> None:
    await tell(engine, "Remember that I play chess.")
    await tell(engine, "I no longer play chess.")  # the model's own removal
    restored = await undo(engine)
    assert restored.as_text() == "Undone: restored I play chess."
    forgot = await undo(engine)
    assert forgot.as_text() == "Undone: forgot I play chess."
    assert await facts(engine) == []

    await tell(engine, "Btw i live in Porto.")
    await tell(engine, "Btw i moved to Lisbon.")
    await tell(engine, "Remember that I keep bees.")
    await tell(engine, "It is not bees but wasps.")
    patched = await undo(engine)
    assert patched.as_text() == "Undone: changed back I keep wasps -> I keep bees."
    assert (await undo(engine)).as_text() == "Undone: forgot I keep bees."
    assert (await undo(engine)).as_text() == "Undone: changed back location: Lisbon -> Porto."


async def _forget(engine: MemoryEngine, how: str, words: str) -> None:
    if how == "asked in chat":
        await tell(engine, f"Forget that {words}.")
        return
    memory = await engine.repository.load(ALICE.key)
    [item_id] = [k for k, f in memory.facts.items() if words in str(f.data)]
    await engine.run_command(ALICE, MemoryCommand("forget", item_id=item_id))


@pytest.mark.parametrize("how", ["asked in chat", "forget command"])
async def test_an_older_undo_never_restores_words_forgotten_under_a_new_id(
    engine: MemoryEngine, how: str
) -> None:
    # Removed by the model (undoable), learned again under a new id, then forgotten: the older
    # removal's Undo held the same words, so it can no longer bring them back.
    await tell(engine, "Remember that I keep Quokkabees.")
    await tell(engine, "I no longer keep Quokkabees.")
    removal = (await engine.repository.change_sets(ALICE.key))[-1]
    assert removal.summary() == "removed I keep Quokkabees"
    await tell(engine, "Remember that I keep Quokkabees.")
    await _forget(engine, how, "I keep Quokkabees")

    pressed = await undo(engine, removal.id)
    assert pressed.reason != "done" and pressed.reverted == []
    assert await facts(engine) == []
    assert "Quokkabees" not in str(await engine.repository.change_sets(ALICE.key))


@pytest.mark.parametrize("how", ["asked in chat", "forget command"])
@pytest.mark.parametrize("first", ["undone", "removed by the model"])
async def test_forgetting_erases_the_same_words_kept_under_an_earlier_id(
    storage: Storage, request: pytest.FixtureRequest, tmp_path: Path, how: str, first: str
) -> None:
    engine = engine_on(storage)
    try:
        await tell(engine, "Remember that I keep Quaggabees.")
        if first == "undone":
            assert (await undo(engine)).reason == "done"
        else:
            await tell(engine, "I no longer keep Quaggabees.")
        await tell(engine, "Remember that I play chess.")
        await tell(engine, "Remember that I keep Quaggabees.")
        await _forget(engine, how, "I keep Quaggabees")

        # History, Undo states and the stored conversation keep none of it, under any id.
        assert places(storage, request, tmp_path, "Quaggabees") == []
        history = (await engine.run_command(ALICE, MemoryCommand("history"))).as_text()
        assert "Quaggabees" not in history and "I play chess" in history
        assert await facts(engine) == ["I play chess"]
    finally:
        await engine.scheduler.close()


async def test_an_undo_pressed_again_says_it_was_already_undone(engine: MemoryEngine) -> None:
    await tell(engine, "Remember that I keep bees.")
    [told] = await engine.repository.change_sets(ALICE.key)
    assert (await undo(engine, told.id)).reason == "done"

    again = await undo(engine, told.id)

    assert again.reason == "undone" and again.reverted == []
    assert again.as_text().startswith("That was already undone.")


@pytest.mark.parametrize("how", ["asked in chat", "forget command"])
async def test_an_older_undo_after_a_forget_says_the_memory_was_forgotten_since(
    engine: MemoryEngine, how: str
) -> None:
    await tell(engine, "Remember that I keep bees.")
    [told] = await engine.repository.change_sets(ALICE.key)
    await tell(engine, "Remember that I play chess.")
    await _forget(engine, how, "I keep bees")

    pressed = await undo(engine, told.id)

    assert pressed.reason == "forgotten since" and pressed.reverted == []
    assert "forgotten since" in pressed.as_text() and "bees" not in pressed.as_text()
    assert await facts(engine) == ["I play chess"]


async def test_history_names_what_undoing_an_insert_took_back(engine: MemoryEngine) -> None:
    await tell(engine, "Remember that I keep bees.")
    await tell(engine, "I live in Lisbon.")
    await undo(engine)
    await undo(engine)
    [fact_id] = {e.item_id for e in (await engine.repository.history(ALICE.key)).values()} - {
        "location"
    }

    history = (await engine.run_command(ALICE, MemoryCommand("history"))).as_text()

    assert "removed [location] location: Lisbon (undone) (undo)" in history
    assert f"removed [{fact_id}] I keep bees (undone) (undo)" in history


@pytest.mark.parametrize("how", ["asked in chat", "forget command"])
async def test_forgetting_reaches_an_earlier_value_another_fact_still_keeps(
    storage: Storage, request: pytest.FixtureRequest, tmp_path: Path, how: str
) -> None:
    # "I keep Zibbees" was changed to "I keep Wuppwasps" (which keeps it as its earlier value),
    # then learned again as a fact of its own and forgotten: the earlier value goes too.
    engine = engine_on(storage)
    try:
        await tell(engine, "Remember that I keep Zibbees.")
        await tell(engine, "It is not Zibbees but Wuppwasps.")
        await tell(engine, "Remember that I keep Zibbees.")
        await _forget(engine, how, "I keep Zibbees")

        assert await facts(engine) == ["I keep Wuppwasps"]
        memory = await engine.repository.load(ALICE.key)
        assert all(not f.previous for f in memory.facts.values())
        assert places(storage, request, tmp_path, "Zibbees") == []
    finally:
        await engine.scheduler.close()


async def test_asking_to_forget_an_earlier_value_of_a_fact_forgets_it(
    storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    engine = engine_on(storage)
    notices = watch(engine)
    try:
        await tell(engine, "Remember that I keep Zibbees.")
        await tell(engine, "It is not Zibbees but Wuppwasps.")
        await tell(engine, "Please forget that I keep Zibbees.")

        assert await facts(engine) == ["I keep Wuppwasps"]
        assert notices[-1].forgotten == 1
        assert places(storage, request, tmp_path, "Zibbees") == []
    finally:
        await engine.scheduler.close()


async def test_asking_to_forget_something_never_said_leaves_earlier_values_alone(
    engine: MemoryEngine,
) -> None:
    # "keep" is shared, "Zibbees" is not: the live fact's earlier value is not what was named.
    await tell(engine, "Remember that I keep Hoxcats.")
    await tell(engine, "It is not Hoxcats but Hoxdogs.")
    await tell(engine, "Please forget that I keep Zibbees.")

    memory = await engine.repository.load(ALICE.key)
    [fact] = memory.facts.values()
    assert fact.text() == "I keep Hoxdogs"
    assert [e.text for e in fact.previous] == ["I keep Hoxcats"]
    history = (await engine.run_command(ALICE, MemoryCommand("history"))).as_text()
    assert "Hoxcats" in history


async def test_asking_to_forget_a_city_lived_in_before_forgets_only_that_one(
    storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    engine = engine_on(storage)
    notices = watch(engine)
    try:
        await tell(engine, "Btw i live in Aarbergx.")
        await tell(engine, "Btw i moved to Bexhillx.")
        await tell(engine, "Btw i moved to Cardiffx.")
        await tell(engine, "Please forget that I lived in Aarbergx.")

        memory = await engine.repository.load(ALICE.key)
        assert memory.merged_profile()["location"] == "Cardiffx"
        assert notices[-1].forgotten == 1
        history = (await engine.run_command(ALICE, MemoryCommand("history"))).as_text()
        assert "Aarbergx" not in history and "Cardiffx" in history
        assert places(storage, request, tmp_path, "Aarbergx") == []
    finally:
        await engine.scheduler.close()
