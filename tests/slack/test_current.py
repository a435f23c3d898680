"""/memory show is current: it learns what is pending for the caller first (bounded), and when
learning takes longer it says so and replaces its answer once learning is done."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from adapters.slack.app import build_slack_app
from bot.storage import Storage
from memory.engine import MemoryEngine
from tests.conftest import MANUAL, engine_on
from tests.fakes.slack import JsonDict
from tests.fakes.slack.records import PERMALINK_BASE
from tests.slack.conftest import (
    BOT_TOKEN,
    SECRET,
    Bot,
    SlackServer,
    blocks_text,
    button,
    buttons,
    memory_of,
    next_ts,
    serve,
)


async def told(bot: Bot, *lines: str) -> None:
    for line in lines:
        await bot.dm(line)
    await bot.slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "chat.postMessage"]) >= len(lines)
    )


async def test_show_right_after_telling_lists_the_new_memory(bot: Bot) -> None:
    await told(bot, "Remember that I keep bees.")

    shown = await bot.command("show")  # no learn_now, no waiting for the quiet period

    assert "I keep bees" in blocks_text(shown["blocks"])
    assert "Still learning" not in shown["text"]


@pytest.fixture
async def impatient(storage: Storage, slack: SlackServer) -> AsyncIterator[Bot]:
    """A bot whose /memory show does not wait for learning at all."""
    engine: MemoryEngine = engine_on(storage, config=replace(MANUAL, show_wait_seconds=0))
    app = build_slack_app(engine, bot_token=BOT_TOKEN, signing_secret=SECRET, api_url=slack.api_url)
    async with serve(app, slack) as served:
        yield served
    await engine.scheduler.close()


async def test_show_says_it_is_still_learning_then_replaces_its_answer(impatient: Bot) -> None:
    await told(impatient, "Remember that I keep bees.")

    first = await impatient.command("show", name="slow")

    assert "Still learning from 1 recent message" in first["text"]
    assert "I keep bees" not in first["text"]
    _, refreshed = await impatient.slack.wait_for_responses("slow", 2)
    assert refreshed["replace_original"] is True
    assert "I keep bees" in blocks_text(refreshed["blocks"])
    assert "Still learning" not in refreshed["text"]


async def test_the_app_home_is_published_again_when_learning_is_done(impatient: Bot) -> None:
    await told(impatient, "Remember that I keep bees.")
    opened = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}

    await impatient.event({**opened, "event_ts": next_ts()})

    await impatient.slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "views.publish"]) >= 2
    )
    first, second = (
        blocks_text(view_of(c.args)) for c in impatient.slack.calls_to("views.publish")
    )
    assert "Still learning from 1 recent message" in first and "I keep bees" not in first
    assert "I keep bees" in second and "Still learning" not in second


async def test_why_links_to_the_slack_permalink(bot: Bot, engine: MemoryEngine) -> None:
    ts = await bot.dm("Remember that I keep bees.")
    await bot.slack.wait_for_call("chat.postMessage")
    [fact] = (await memory_of(engine)).facts  # show learns it first

    why = await bot.command(f"why {fact.id}")

    link = f"{PERMALINK_BASE}archives/D1/p{ts.replace('.', '')}"
    assert link in why["text"] and "Remember that I keep bees." in why["text"]


async def test_each_listed_item_opens_its_why_privately_for_its_owner_only(
    bot: Bot, engine: MemoryEngine
) -> None:
    ts = await bot.dm("Remember that I keep bees.")
    await bot.slack.wait_for_call("chat.postMessage")
    shown = await bot.command("show")
    [fact] = (await memory_of(engine)).facts
    whys = [b for b in buttons(shown["blocks"]) if b["action_id"] == "memory_why"]
    assert [json.loads(b["value"])["i"] for b in whys] == [fact.id]

    refused = await bot.press(whys[0], user="U2")
    assert refused is not None and "belong to someone else" in refused["text"]
    assert "bees" not in json.dumps(refused)

    why = await bot.press(whys[0])
    assert why is not None and why["response_type"] == "ephemeral"
    assert why["replace_original"] is False  # the list stays; the why comes under it
    link = f"{PERMALINK_BASE}archives/D1/p{ts.replace('.', '')}"
    assert link in why["text"] and "Remember that I keep bees." in why["text"]


async def test_why_pressed_in_the_app_home_is_shown_on_top_of_it(bot: Bot) -> None:
    await told(bot, "Remember that I keep bees.")
    await bot.event({"type": "app_home_opened", "user": "U1", "tab": "home", "event_ts": next_ts()})
    published = await bot.slack.wait_for_call("views.publish", user_id="U1")

    await bot.press(button(view_of(published.args), "memory_why"), container="view")

    await bot.slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "views.publish"]) == 2
    )
    refreshed = view_of(bot.slack.calls_to("views.publish")[-1].args)
    text = blocks_text(refreshed)
    assert "you said" in text and text.index("you said") < text.index("What I remember")


def view_of(args: JsonDict) -> list[JsonDict]:
    view = args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    return list(view["blocks"])
