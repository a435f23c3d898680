"""Slack's size limits: long answers become several messages, /memory show for many facts
stays within every limit (the fake refuses what Slack refuses), and a msg_too_long is retried."""

from __future__ import annotations

import re

from langchain_core.messages import AIMessage

from memory.engine import MemoryEngine
from memory.schemas import Provenance, StoredItem
from tests.fakes.slack.limits import TEXT_LIMIT
from tests.rules import memory_script
from tests.scripted_model import ScriptedCall, ScriptedChatModel
from tests.slack.conftest import ALICE, Bot, blocks_text

PARAGRAPH = (
    "The first thing to know is that bees keep the hive warm in winter. "
    "They cluster & shiver, and the queen stays in the middle. "
)


def answer_with(model: ScriptedChatModel, text: str) -> None:
    def script(call: ScriptedCall) -> AIMessage:
        return AIMessage(content=text) if not call.tools else memory_script(call)

    model.script = script


def posted_texts(bot: Bot, channel: str = "D1") -> list[str]:
    return [
        c.args["text"]
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel
    ]


def words(text: str) -> list[str]:
    """The words of a text, without the fence lines added where a code block was cut."""
    return [w for w in text.replace("&amp;", "&").split() if w != "```"]


async def test_a_long_answer_is_posted_as_several_messages_within_the_limit(
    bot: Bot, model: ScriptedChatModel
) -> None:
    code = "```\n" + "\n".join(f"    line {n} of the example" for n in range(40)) + "\n```"
    paragraphs = [f"Part {n}. " + PARAGRAPH * 4 for n in range(10)]
    answer = "\n\n".join([*paragraphs[:5], code, *paragraphs[5:]])
    assert len(answer) > 5_800
    answer_with(model, answer)

    await bot.dm("tell me everything about bees")
    await bot.slack.wait_for(lambda calls: words(" ".join(posted_texts(bot))) == words(answer))

    texts = posted_texts(bot)
    assert len(texts) >= 2 and all(len(t) <= TEXT_LIMIT for t in texts)
    assert all(t.count("```") % 2 == 0 for t in texts)
    assert all(re.match(r"(Part \d|```)", t) for t in texts)  # cut between paragraphs


async def test_a_message_slack_refuses_as_too_long_is_split_and_posted_again(
    bot: Bot, model: ScriptedChatModel
) -> None:
    answer = PARAGRAPH * 20  # under the limit, but this Slack says msg_too_long
    answer_with(model, answer)
    bot.slack.fail_next("chat.postMessage", "msg_too_long")

    await bot.dm("tell me about bees")
    await bot.slack.wait_for(lambda calls: len(posted_texts(bot)) == 3)

    refused, *halves = posted_texts(bot)
    assert all(len(h) < len(refused) for h in halves)
    assert words(" ".join(halves)) == words(answer)


async def test_show_for_150_facts_stays_within_every_limit(bot: Bot, engine: MemoryEngine) -> None:
    for n in range(150):
        item = StoredItem(
            kind="fact",
            data={"content": f"Fact number {n}: " + "something worth keeping " * 18},
            provenance=Provenance(platform="slack", conversation="c", audience="dm"),
        )
        await engine.repository.put(ALICE.key, "facts", f"k{n:03d}", item)

    shown = await bot.command("show")

    assert len(shown["text"]) <= TEXT_LIMIT and len(shown["blocks"]) <= 50
    assert "Fact number 0:" in blocks_text(shown["blocks"])
    assert "/memory export" in blocks_text(shown["blocks"])  # says there is more
