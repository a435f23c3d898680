"""The "memory updated" notice on Slack: ephemeral, where the person was talking, with an Undo
button that only its owner can use and that never overwrites a newer change."""

from __future__ import annotations

import json
from typing import Any

from memory.engine import MemoryEngine
from tests.fakes.slack import JsonDict
from tests.slack.conftest import ALICE, Bot, button, memory_of


def blocks_of(args: dict[str, Any]) -> list[JsonDict]:
    blocks = args["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


async def tell(bot: Bot, engine: MemoryEngine, text: str) -> JsonDict:
    """A DM, learned at once; returns the args of the notice it brought."""
    before = len(bot.slack.calls_to("chat.postEphemeral"))
    replies = len(bot.slack.calls_to("chat.postMessage"))
    await bot.dm(text)
    await bot.slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "chat.postMessage"]) > replies
    )
    await engine.learn_now(ALICE.key)
    notices = bot.slack.calls_to("chat.postEphemeral")
    assert len(notices) == before + 1, bot.slack.describe()
    return notices[-1].args


async def test_the_notice_is_private_in_the_dm_with_an_undo_button(
    bot: Bot, engine: MemoryEngine
) -> None:
    notice = await tell(bot, engine, "Remember that I keep bees.")

    assert (notice["channel"], notice["user"]) == ("D1", "U1")
    assert "thread_ts" not in notice
    assert "Remembered: I keep bees" in notice["text"]
    undo = button(blocks_of(notice), "memory_undo")
    assert json.loads(undo["value"])["o"] == ALICE.key


async def test_undo_by_its_owner_reverts_the_insert(bot: Bot, engine: MemoryEngine) -> None:
    notice = await tell(bot, engine, "Remember that I keep bees.")

    answer = await bot.press(button(blocks_of(notice), "memory_undo"))

    assert answer is not None and answer["replace_original"] is True
    assert "Undone: forgot I keep bees" in answer["text"]
    assert (await memory_of(engine)).facts == []


async def test_undo_pressed_by_someone_else_changes_nothing(bot: Bot, engine: MemoryEngine) -> None:
    notice = await tell(bot, engine, "Remember that I keep bees.")

    answer = await bot.press(button(blocks_of(notice), "memory_undo"), user="U2")

    assert answer is not None and "belong to someone else" in answer["text"]
    assert [f.text for f in (await memory_of(engine)).facts] == ["I keep bees"]


async def test_undo_after_a_newer_change_to_the_item_says_so(
    bot: Bot, engine: MemoryEngine
) -> None:
    first = await tell(bot, engine, "Remember that I keep bees.")
    patched = await tell(bot, engine, "It is not bees but wasps.")
    assert "I keep wasps" in patched["text"]

    answer = await bot.press(button(blocks_of(first), "memory_undo"))

    assert answer is not None and "something newer changed the same memory" in answer["text"]
    assert [f.text for f in (await memory_of(engine)).facts] == ["I keep wasps"]
    # The newer one can still be undone: the patch goes back to its before-state.
    undone = await bot.press(button(blocks_of(patched), "memory_undo"))
    assert undone is not None and "Undone" in undone["text"]
    assert [f.text for f in (await memory_of(engine)).facts] == ["I keep bees"]


async def test_a_notice_in_a_thread_stays_in_the_thread(bot: Bot, engine: MemoryEngine) -> None:
    ts = await bot.mention("Remember that I keep bees.", channel="C9")
    await bot.slack.wait_for_call("chat.postMessage", channel="C9")
    await engine.learn_now(ALICE.key)

    [notice] = bot.slack.calls_to("chat.postEphemeral")
    assert (notice.args["channel"], notice.args["thread_ts"]) == ("C9", ts)


async def test_undo_by_its_owner_puts_back_a_removal_the_model_made(
    bot: Bot, engine: MemoryEngine
) -> None:
    await tell(bot, engine, "Remember that I keep bees.")
    removed = await tell(bot, engine, "I no longer keep bees.")  # outdated, not "forget"
    assert "Memory updated: removed I keep bees" in removed["text"]
    assert (await memory_of(engine)).facts == []

    answer = await bot.press(button(blocks_of(removed), "memory_undo"))

    assert answer is not None and "Undone: restored I keep bees" in answer["text"]
    assert [f.text for f in (await memory_of(engine)).facts] == ["I keep bees"]


async def test_an_older_undo_never_restores_what_was_forgotten_under_a_new_id(
    bot: Bot, engine: MemoryEngine
) -> None:
    await tell(bot, engine, "Remember that I keep Quokkabees.")
    removed = await tell(bot, engine, "I no longer keep Quokkabees.")
    assert "Memory updated: removed I keep Quokkabees" in removed["text"]
    await tell(bot, engine, "Remember that I keep Quokkabees.")  # a new item, a new id
    await tell(bot, engine, "Forget that I keep Quokkabees.")
    assert (await memory_of(engine)).facts == []

    answer = await bot.press(button(blocks_of(removed), "memory_undo"))

    assert answer is not None and "that memory was forgotten since" in answer["text"]
    assert "Quokkabees" not in answer["text"]
    assert (await memory_of(engine)).facts == []
