"""/memory over the wire: ack, then an ephemeral Block Kit answer; buttons; the App Home tab."""

from __future__ import annotations

import json

import pytest

from memory.commands.verbs import VERBS, Verb
from memory.engine import MemoryEngine
from tests.command_samples import sample_text
from tests.fakes.slack import slash_command_form
from tests.slack.conftest import (
    ALICE,
    BOB,
    Bot,
    blocks_text,
    button,
    buttons,
    item_ids,
    memory_of,
    next_ts,
    texts,
)


async def learn(bot: Bot, engine: MemoryEngine, *lines: str) -> None:
    """Tell the bot things in a DM and let it learn them."""
    for line in lines:
        await bot.dm(line)
    await bot.slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "chat.postMessage"]) >= len(lines)
    )
    await engine.learn_now(ALICE.key)


async def test_show_lists_facts_with_ids_sources_and_forget_buttons(
    bot: Bot, engine: MemoryEngine
) -> None:
    await learn(bot, engine, "My name is Alice. Remember that I keep bees.")

    shown = await bot.command("show")

    assert shown["response_type"] == "ephemeral"
    assert "I keep bees" in shown["text"]
    [fact] = (await memory_of(engine)).facts
    assert fact.id in item_ids(shown["blocks"])
    assert "learned in a DM on slack" in blocks_text(shown["blocks"])
    assert "name: Alice" in blocks_text(shown["blocks"])
    forgets = [b for b in buttons(shown["blocks"]) if b["action_id"] == "memory_forget"]
    # Every remembered thing can be forgotten on its own, each profile field included.
    assert [json.loads(b["value"]) for b in forgets] == [
        {"o": ALICE.key, "i": "name"},
        {"o": ALICE.key, "i": fact.id},
    ]


async def test_the_slash_command_is_acked_at_once(bot: Bot) -> None:
    name = "ack"
    body = slash_command_form("help", "U1", "T1", "C1", bot.slack.response_url(name))
    reply = await bot.post(body, "application/x-www-form-urlencoded")

    assert (reply.status, reply.text) == (200, "")
    help_text = await bot.slack.wait_for_response(name)
    assert "/memory forget <id>" in help_text["text"]


async def test_forget_one_with_its_button(bot: Bot, engine: MemoryEngine) -> None:
    await learn(bot, engine, "Remember that I keep bees.", "Remember that my cat is Tom.")
    shown = await bot.command("show facts")
    bees = next(v for v in (await memory_of(engine)).facts if v.text == "I keep bees")
    forget = next(
        b
        for b in buttons(shown["blocks"])
        if b["action_id"] == "memory_forget" and json.loads(b["value"])["i"] == bees.id
    )

    answer = await bot.press(forget)

    assert answer is not None
    assert answer["replace_original"] is True
    assert answer["text"].startswith("Forgotten: I keep bees")
    assert texts(await memory_of(engine)) == ["my cat is Tom"]


async def test_forget_by_id_with_the_command(bot: Bot, engine: MemoryEngine) -> None:
    await learn(bot, engine, "Remember that I keep bees.")
    [fact] = (await memory_of(engine)).facts

    answer = await bot.command(f"forget {fact.id}")

    assert answer["text"] == "Forgotten: I keep bees"
    assert (await memory_of(engine)).facts == []


async def test_a_button_pressed_by_another_user_is_refused(bot: Bot, engine: MemoryEngine) -> None:
    await learn(bot, engine, "Remember that I keep bees.")
    shown = await bot.command("show")

    answer = await bot.press(button(shown["blocks"], "memory_forget"), user="U2")
    everything = await bot.press(button(shown["blocks"], "memory_forget_all"), user="U2")

    assert answer is not None and everything is not None
    assert "someone else" in answer["text"]
    assert answer.get("replace_original") is False
    assert "someone else" in everything["text"]
    assert texts(await memory_of(engine)) == ["I keep bees"]


async def test_forget_all_asks_for_confirmation_first(bot: Bot, engine: MemoryEngine) -> None:
    await learn(bot, engine, "My name is Alice. Remember that I keep bees.")

    asked = await bot.command("forget all")

    assert "cannot be undone" in asked["text"]
    assert len(texts(await memory_of(engine))) == 2  # nothing deleted yet
    confirm = button(asked["blocks"], "memory_forget_all_confirm")
    assert confirm["style"] == "danger" and "confirm" in confirm  # a dialog before it fires

    done = await bot.press(confirm)

    assert done is not None
    assert done["text"].startswith("Deleted everything")
    assert (await memory_of(engine)).empty


async def test_forget_everything_button_from_show_then_cancel(
    bot: Bot, engine: MemoryEngine
) -> None:
    await learn(bot, engine, "Remember that I keep bees.")
    shown = await bot.command("show")

    asked = await bot.press(button(shown["blocks"], "memory_forget_all"))
    assert asked is not None
    cancelled = await bot.press(button(asked["blocks"], "memory_cancel"))

    assert cancelled is not None and "I keep bees" in cancelled["text"]
    assert texts(await memory_of(engine)) == ["I keep bees"]


async def test_correct(bot: Bot, engine: MemoryEngine) -> None:
    await learn(bot, engine, "Remember that I keep bees.")
    [fact] = (await memory_of(engine)).facts

    answer = await bot.command("correct not bees but wasps")

    assert answer["text"].startswith("Corrected.")
    assert f"changed [{fact.id}] I keep wasps" in answer["text"]
    assert texts(await memory_of(engine)) == ["I keep wasps"]


async def test_export_uploads_the_json_to_the_users_dm(bot: Bot, engine: MemoryEngine) -> None:
    await learn(bot, engine, "Remember that I keep bees.")

    answer = await bot.command("export")

    opened = await bot.slack.wait_for_call("conversations.open", users="U1")
    assert opened.token is not None and opened.token.startswith("xoxb-")
    complete = await bot.slack.wait_for_call("files.completeUploadExternal", channel_id="DU1")
    [upload] = bot.slack.uploads.values()
    assert upload.content is not None
    document = json.loads(upload.content)
    assert document["user"] == ALICE.key
    assert [f["data"]["content"] for f in document["facts"]] == ["I keep bees"]
    assert json.loads(complete.args["files"])[0]["id"] == upload.file_id
    assert "sent your memory export" in answer["text"]
    assert answer["response_type"] == "ephemeral"


async def test_pause_and_resume(bot: Bot, engine: MemoryEngine) -> None:
    paused = await bot.command("pause")
    assert paused["text"].startswith("Learning paused")
    await learn(bot, engine, "Remember that I keep bees.")
    assert (await memory_of(engine)).empty
    assert (await memory_of(engine)).paused

    resumed = await bot.command("resume")
    assert resumed["text"] == "Learning resumed."
    await bot.dm("Remember that my cat is Tom.")
    await bot.slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "chat.postMessage"]) == 2
    )
    await engine.learn_now(ALICE.key)

    assert texts(await memory_of(engine)) == ["my cat is Tom"]


async def test_pause_with_the_button(bot: Bot, engine: MemoryEngine) -> None:
    shown = await bot.command("show")

    answer = await bot.press(button(shown["blocks"], "memory_pause"))

    assert answer is not None and "Learning paused" in answer["text"]
    assert (await memory_of(engine)).paused
    button(answer["blocks"], "memory_resume")  # the refreshed list offers the way back


async def test_bad_input_gets_the_usage_and_changes_nothing(bot: Bot, engine: MemoryEngine) -> None:
    await learn(bot, engine, "Remember that I keep bees.")

    unknown = await bot.command("frobnicate everything")
    bad_id = await bot.command("forget NOT-AN-ID!")

    assert "Usage:" in unknown["text"] and "/memory show" in unknown["text"]
    assert "is not a memory id" in bad_id["text"]
    assert texts(await memory_of(engine)) == ["I keep bees"]
    assert not (await memory_of(engine)).paused


async def test_commands_only_touch_the_callers_memory(bot: Bot, engine: MemoryEngine) -> None:
    await learn(bot, engine, "Remember that I keep bees.")
    [fact] = (await memory_of(engine)).facts

    bobs_show = await bot.command("show", user="U2")
    bobs_forget = await bot.command(f"forget {fact.id}", user="U2")

    assert "I keep bees" not in bobs_show["text"]
    assert "no memory with id" in bobs_forget["text"]
    assert texts(await memory_of(engine)) == ["I keep bees"]
    assert (await memory_of(engine, BOB)).empty


async def test_app_home_shows_the_users_memory_with_controls(
    bot: Bot, engine: MemoryEngine
) -> None:
    await learn(bot, engine, "Remember that I keep bees.")
    [fact] = (await memory_of(engine)).facts
    opened = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
    opened["event_ts"] = next_ts()

    await bot.event(opened)

    published = await bot.slack.wait_for_call("views.publish", user_id="U1")
    view = published.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    assert "I keep bees" in blocks_text(view["blocks"])
    forget = button(view["blocks"], "memory_forget")
    assert json.loads(forget["value"]) == {"o": ALICE.key, "i": fact.id}

    # Pressing Forget in the Home tab deletes the item and publishes the refreshed view.
    await bot.press(forget, container="view")
    await bot.slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "views.publish"]) == 2
    )
    refreshed = bot.slack.calls_to("views.publish")[-1].args["view"]
    refreshed = json.loads(refreshed) if isinstance(refreshed, str) else refreshed
    assert "Forgotten: I keep bees" in blocks_text(refreshed["blocks"])
    assert (await memory_of(engine)).empty


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v.name)
async def test_every_memory_verb_is_answered(bot: Bot, verb: Verb) -> None:
    answer = await bot.command(sample_text(verb))

    assert answer["response_type"] == "ephemeral"
    assert not answer["text"].startswith("I don't know"), answer["text"]
    assert answer["text"].strip()
