"""Slack memories link to the message they came from: the link comes from chat.getPermalink,
since slack-bolt's single-token authorization never fills the workspace URL."""

from __future__ import annotations

from adapters.slack.permalinks import base_of
from memory.engine import MemoryEngine
from tests.fakes.slack.records import PERMALINK_BASE
from tests.slack.conftest import ALICE, Bot, blocks_text


async def test_a_dm_memory_keeps_the_permalink_slack_gave(bot: Bot, engine: MemoryEngine) -> None:
    first = await bot.dm("Remember that I keep bees.")
    second = await bot.dm("Remember that I play chess.")
    await bot.slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "chat.postMessage"]) >= 2
    )
    await engine.learn_now(ALICE.key)

    memory = await engine.repository.load(ALICE.key)
    links = {item.data["content"]: item.provenance.permalink for item in memory.facts.values()}
    assert links == {
        "I keep bees": f"{PERMALINK_BASE}archives/D1/p{first.replace('.', '')}",
        "I play chess": f"{PERMALINK_BASE}archives/D1/p{second.replace('.', '')}",
    }
    # Once Slack has given the workspace URL, later messages need no Web API call for it.
    asked = len(bot.slack.calls_to("chat.getPermalink"))
    await bot.dm("hello again")
    await bot.slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "chat.postMessage"]) >= 3
    )
    assert len(bot.slack.calls_to("chat.getPermalink")) == asked
    shown = await bot.command("show")
    assert f"<{links['I keep bees']}|message>" in blocks_text(shown["blocks"])


def test_the_base_url_of_a_permalink() -> None:
    assert base_of("https://acme.slack.com/archives/C1/p1700000000000100") == (
        "https://acme.slack.com/"
    )
    assert base_of("not a link") is None
