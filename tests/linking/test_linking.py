"""Linking a person's Slack and Discord accounts over both wires: one memory, audience rules
kept, codes that work once and only in time, unlink, and forget all for every account."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.discord.normalize import user_ref
from bot.storage import Storage
from memory.accounts.linking import MAX_GUESSES
from memory.engine import MemoryEngine
from tests.discord.conftest import Chat
from tests.fakes.discord import OTHER_USER_ID, USER_ID, Json, Request
from tests.memory.scan import places
from tests.slack.conftest import ALICE, BOB, Bot, memory_of, texts

DISCORD_ALICE = user_ref(USER_ID)


def said(followup: Request) -> str:
    """The text of a private Discord answer (message content and embeds): every command is
    deferred first, and the answer is the followup."""
    message: Json = followup.json
    parts = [message.get("content") or ""]
    for embed in message.get("embeds", []):
        parts += [embed.get("title", ""), embed.get("description", "")]
    return "\n".join(parts)


async def slack_code(bot: Bot, user: str = "U1") -> str:
    answer = await bot.command("link", user=user)
    found = re.search(r"link code is `([a-z0-9]+)`", answer["text"])
    assert found, answer["text"]
    return found.group(1)


async def discord_link(chat: Chat, code: str, user_id: int = USER_ID) -> str:
    payload, _ = await chat.command("link", {"code": code}, user_id=user_id, guild=False)
    return said(await chat.followup(payload))


async def slack_learns(bot: Bot, engine: MemoryEngine, line: str) -> None:
    await bot.dm(line)
    await bot.slack.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls))
    await engine.learn_now(ALICE.key)


async def test_linked_accounts_share_one_memory_and_keep_audience_rules(
    bot: Bot, chat: Chat, engine: MemoryEngine
) -> None:
    await slack_learns(bot, engine, "Remember that I keep bees.")
    code = await slack_code(bot)

    assert "Linked" in await discord_link(chat, code)

    in_dm = await chat.dm("What do you know about me?")
    assert "I keep bees" in in_dm.json["content"]
    in_server = await chat.mention("What do you know about me?")
    assert "bees" not in in_server.json["content"]
    shown = await bot.command("show")
    assert "slack:T1:U1" in shown["text"] and f"discord:{USER_ID}" in shown["text"]
    assert texts(await memory_of(engine, DISCORD_ALICE)) == ["I keep bees"]


async def test_a_code_works_once_in_time_and_only_on_the_other_platform(
    bot: Bot, chat: Chat, engine: MemoryEngine
) -> None:
    await slack_learns(bot, engine, "Remember that I keep bees.")
    code = await slack_code(bot)

    refused = await bot.command(f"link {code}", user="U2")  # another person, same platform
    assert "another platform" in refused["text"] and "Nothing was changed" in refused["text"]

    expired = await slack_code(bot)
    later = datetime.now(UTC) + timedelta(minutes=11)
    engine.linker.clock = lambda: later
    assert "expired" in await discord_link(chat, expired)
    engine.linker.clock = lambda: datetime.now(UTC)

    assert "Linked" in await discord_link(chat, code)
    again = await discord_link(chat, code, user_id=OTHER_USER_ID)  # a third account
    assert "wrong or has expired" in again
    assert texts(await memory_of(engine, user_ref(OTHER_USER_ID))) == []
    assert texts(await memory_of(engine, BOB)) == []


async def test_wrong_codes_change_nothing_and_guesses_are_limited(
    bot: Bot, chat: Chat, engine: MemoryEngine
) -> None:
    await slack_learns(bot, engine, "Remember that I keep bees.")
    code = await slack_code(bot)
    for _ in range(MAX_GUESSES):
        assert "wrong" in await discord_link(chat, "zzzzzzzz")

    limited = await discord_link(chat, code)

    assert "Too many" in limited
    assert texts(await memory_of(engine, DISCORD_ALICE)) == []


async def test_unlink_keeps_the_memory_with_the_account_that_stays(
    bot: Bot, chat: Chat, engine: MemoryEngine
) -> None:
    await slack_learns(bot, engine, "Remember that I keep bees.")
    assert "Linked" in await discord_link(chat, await slack_code(bot))

    answer = await bot.command("unlink discord")

    assert "Unlinked your discord account" in answer["text"]
    assert texts(await memory_of(engine, ALICE)) == ["I keep bees"]
    assert texts(await memory_of(engine, DISCORD_ALICE)) == []
    in_dm = await chat.dm("What do you know about me?")
    assert "bees" not in in_dm.json["content"]
    assert "No discord account" in (await bot.command("unlink discord"))["text"]


async def test_forget_all_after_linking_leaves_nothing_of_either_account(
    bot: Bot,
    chat: Chat,
    engine: MemoryEngine,
    storage: Storage,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    await slack_learns(bot, engine, "Remember that I keep Carniolan bees.")
    await chat.dm("Remember that I grow Darjeeling tea.")
    await chat.mention("Remember that I ride a Brompton bike.")
    await chat.learn()
    assert "Linked" in await discord_link(chat, await slack_code(bot))

    receipt = await bot.command("forget all confirm")

    assert "2 DM conversation(s)" in receipt["text"], receipt["text"]
    for word in ("Carniolan", "Darjeeling", "Brompton"):
        assert places(storage, request, tmp_path, word) == [], word
    assert texts(await memory_of(engine, ALICE)) == []
