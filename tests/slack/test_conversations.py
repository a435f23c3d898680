"""Mentions, DMs and thread follow-ups over the wire: signed HTTP events in, Web API calls out."""

from __future__ import annotations

import json
from typing import Any

from adapters.slack.app import build_slack_app
from memory.engine import MemoryEngine
from memory.intake.delivery import Delivery
from tests.fakes.slack import dm_event, event_envelope, post_signed
from tests.scripted_model import ScriptedChatModel
from tests.slack.conftest import (
    ALICE,
    BOT_TOKEN,
    SECRET,
    Bot,
    SlackServer,
    memory_of,
    next_ts,
    serve,
    texts,
)


async def test_a_mention_is_answered_in_its_thread(bot: Bot) -> None:
    ts = await bot.mention("hello there")

    call = await bot.slack.wait_for_call("chat.postMessage", channel="C1")

    assert call.args["thread_ts"] == ts
    assert call.args["text"].startswith("Noted.")
    assert call.token is not None and call.token.startswith("xoxb-")


async def test_a_dm_is_answered_in_the_dm(bot: Bot) -> None:
    await bot.dm("Hi! My name is Alice.")

    call = await bot.slack.wait_for_call("chat.postMessage", channel="D1")

    assert "thread_ts" not in call.args
    assert call.args["text"].startswith("Noted. What I remember:")


async def test_a_thread_follow_up_without_a_mention_is_answered(bot: Bot) -> None:
    root = await bot.mention("Remember that I own the deploy pipeline.")
    await bot.slack.wait_for_call("chat.postMessage", thread_ts=root)

    follow_up = dm_event("and what else?", user="U2", channel="C1", ts=next_ts())
    follow_up.update(channel_type="channel", thread_ts=root)
    await bot.event(follow_up)

    await bot.slack.wait_for(lambda calls: len(_posts(calls, root)) == 2)
    assert all(c.args["channel"] == "C1" for c in _posts(bot.slack.calls, root))


async def test_a_message_in_an_unrelated_thread_is_ignored(
    bot: Bot, wait_for_log: Any, delivery: Delivery
) -> None:
    ignored = wait_for_log("ignored a message in a thread the bot is not in")
    message = dm_event("just chatting", user="U2", channel="C1", ts=next_ts())
    message.update(channel_type="channel", thread_ts="1600000000.000001")

    _, event_id = await bot.event(message)

    await ignored.wait()
    assert bot.slack.calls_to("chat.postMessage") == []
    # Settled in the inbox, so no process takes it for unfinished work later.
    assert await delivery.record(f"slack:{event_id}", {}) == "done"


async def test_a_top_level_channel_message_and_bot_messages_are_not_answered(
    bot: Bot, wait_for_log: Any
) -> None:
    ignored = wait_for_log("ignored a message in a thread the bot is not in")
    plain = dm_event("no mention here", channel="C1", ts=next_ts())
    plain["channel_type"] = "channel"
    from_bot = dm_event("I am another bot", channel="D1", ts=next_ts())
    from_bot["bot_id"] = "BOTHER"
    edited = dm_event("edited", channel="D1", ts=next_ts())
    edited["subtype"] = "message_changed"
    for event in (plain, from_bot, edited):
        await bot.event(event)
    # A last message that is handled (and ignored) signals the earlier ones are done too...
    marker = dm_event("marker", user="U2", channel="C1", ts=next_ts())
    marker.update(channel_type="channel", thread_ts="1600000000.000009")
    await bot.event(marker)
    await ignored.wait()
    # ...and a DM afterwards is answered, once: the earlier events produced nothing.
    await bot.dm("hello")
    await bot.slack.wait_for_call("chat.postMessage", channel="D1")
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


async def test_a_me_message_in_a_dm_is_answered(bot: Bot) -> None:
    event = dm_event("waves hello", ts=next_ts())
    event["subtype"] = "me_message"  # typed as `/me waves hello`
    await bot.event(event)

    await bot.slack.wait_for_call("chat.postMessage", channel="D1")


async def test_joins_leaves_and_topic_changes_are_not_answered(bot: Bot) -> None:
    for subtype in ("channel_join", "channel_leave", "channel_topic", "bot_message"):
        event = dm_event(f"<@U1> did {subtype}", ts=next_ts())
        event["subtype"] = subtype
        await bot.event(event)
    own = dm_event("my own reply", user="UBOT", ts=next_ts())
    await bot.event(own)
    await bot.dm("hello")

    await bot.slack.wait_for_call("chat.postMessage", channel="D1")
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


async def test_a_redelivered_event_gets_no_second_reply(
    bot: Bot, engine: MemoryEngine, wait_for_log: Any
) -> None:
    skipped = wait_for_log("skipped a redelivered event")
    event = dm_event("Remember that I keep bees.", ts=next_ts())
    _, event_id = await bot.event(event)
    await bot.slack.wait_for_call("chat.postMessage", channel="D1")

    reply, _ = await bot.event(event, event_id=event_id, retry=1)

    assert reply.status == 200
    await skipped.wait()
    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    await engine.learn_now(ALICE.key)
    assert texts(await memory_of(engine)).count("I keep bees") == 1


async def test_a_bad_signature_gets_401_and_changes_nothing(bot: Bot, delivery: Delivery) -> None:
    envelope = event_envelope(dm_event("Remember that I keep bees.", ts=next_ts()))
    body = json.dumps(envelope).encode()

    forged = await post_signed(bot.session, bot.url, body, "not-the-secret")
    stale = await post_signed(bot.session, bot.url, body, SECRET, timestamp=1_000_000_000)

    assert (forged.status, stale.status) == (401, 401)
    assert bot.slack.calls == []
    # The event was never handled: it is still new to the inbox.
    assert await delivery.record(f"slack:{envelope['event_id']}", {}) == "received"


async def test_first_mention_mid_thread_reads_the_thread_so_far(
    bot: Bot, model: ScriptedChatModel
) -> None:
    root = "1699990000.000001"
    bot.slack.set_thread(
        "C1",
        root,
        [
            {"type": "message", "user": "U2", "text": "We ship on Friday", "ts": root},
            {"type": "message", "user": "U1", "text": "Ask <@U2> first", "ts": "1699990001.1"},
        ],
    )

    ts = await bot.mention("what did we decide?", thread_ts=root)

    await bot.slack.wait_for_call("chat.postMessage", thread_ts=root)
    replies = bot.slack.calls_to("conversations.replies")[0]
    assert (replies.args["channel"], replies.args["ts"], replies.args["latest"]) == ("C1", root, ts)
    chat_prompt = "\n".join(m.text for m in model.calls[0].messages)
    assert "bob: We ship on Friday" in chat_prompt
    assert "alice: Ask @bob first" in chat_prompt


async def test_mentions_of_people_become_names_in_what_is_remembered(
    bot: Bot, engine: MemoryEngine
) -> None:
    await bot.mention("remember that <@U2> is my manager")
    await bot.slack.wait_for_call("chat.postMessage", channel="C1")

    await engine.learn_now(ALICE.key)

    assert "@bob is my manager" in texts(await memory_of(engine))


async def test_a_memory_learned_in_a_dm_never_appears_in_a_channel_answer(
    bot: Bot, engine: MemoryEngine
) -> None:
    await bot.dm("Remember that I am interviewing elsewhere.")
    await bot.slack.wait_for_call("chat.postMessage", channel="D1")
    room = await bot.mention("Remember that I own the deploy pipeline.")
    await bot.slack.wait_for_call("chat.postMessage", thread_ts=room)
    await engine.learn_now(ALICE.key)

    asked = await bot.mention("what do you know about me?")
    answer = await bot.slack.wait_for_call("chat.postMessage", thread_ts=asked)
    await bot.dm("and here?")
    await bot.slack.wait_for(lambda calls: len(_posts(calls, channel="D1")) == 2)
    in_dm = _posts(bot.slack.calls, channel="D1")[-1]

    assert "deploy pipeline" in answer.args["text"]
    assert "interviewing" not in answer.args["text"]
    assert "interviewing" in in_dm.args["text"]


async def test_a_brain_reaction_marks_a_message_the_bot_learned_from(
    bot: Bot, engine: MemoryEngine
) -> None:
    ts = await bot.dm("Remember that I keep bees.")
    await bot.slack.wait_for_call("chat.postMessage", channel="D1")
    assert bot.slack.calls_to("reactions.add") == []

    await engine.learn_now(ALICE.key)

    reaction = await bot.slack.wait_for_call("reactions.add", channel="D1", timestamp=ts)
    assert reaction.args["name"] == "brain"


async def test_an_llm_failure_gives_an_apology_in_the_thread(
    bot: Bot, model: ScriptedChatModel
) -> None:
    def broken(_call: object) -> object:
        raise RuntimeError("provider down")

    model.script = broken
    ts = await bot.mention("hello?")

    call = await bot.slack.wait_for_call("chat.postMessage", thread_ts=ts)

    assert call.args["channel"] == "C1"
    assert call.args["text"].startswith("Sorry")


async def test_a_failed_post_is_logged_with_context_and_the_next_message_still_works(
    bot: Bot, caplog: Any
) -> None:
    bot.slack.fail_next("chat.postMessage", "channel_not_found")
    await bot.dm("first")
    await bot.slack.wait_for_call("chat.postMessage", channel="D1")
    await bot.dm("second")
    await bot.slack.wait_for(lambda calls: len(_posts(calls, channel="D1")) == 2)

    failures = [r for r in caplog.records if "chat.postMessage failed" in r.getMessage()]
    assert failures and "channel_not_found" in failures[0].getMessage()
    assert failures[0].__dict__["channel"] == "D1"


async def test_a_rate_limited_reply_is_retried(bot: Bot) -> None:
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=0)

    ts = await bot.mention("hello")

    await bot.slack.wait_for(lambda calls: len(_posts(calls, ts)) == 2)
    assert _posts(bot.slack.calls, ts)[-1].args["text"].startswith("Noted.")


def _posts(calls: list[Any], thread_ts: str | None = None, channel: str | None = None) -> list[Any]:
    return [
        c
        for c in calls
        if c.method == "chat.postMessage"
        and (thread_ts is None or c.args.get("thread_ts") == thread_ts)
        and (channel is None or c.args.get("channel") == channel)
    ]


async def test_names_are_looked_up_once_per_person(bot: Bot) -> None:
    await bot.dm("first")
    await bot.slack.wait_for_call("chat.postMessage", channel="D1")
    await bot.dm("second, ask <@U2>")
    await bot.slack.wait_for(lambda calls: len(_posts(calls, channel="D1")) == 2)

    looked_up = [c.args["user"] for c in bot.slack.calls_to("users.info")]
    assert sorted(looked_up) == ["U1", "U2"]


async def test_reactions_can_be_turned_off(engine: MemoryEngine, slack: SlackServer) -> None:
    app = build_slack_app(
        engine,
        bot_token=BOT_TOKEN,
        signing_secret=SECRET,
        api_url=slack.api_url,
        react_when_learned=False,
    )
    async with serve(app, slack) as quiet:
        await quiet.dm("Remember that I keep bees.")
        await slack.wait_for_call("chat.postMessage", channel="D1")
        await engine.learn_now(ALICE.key)

    assert texts(await memory_of(engine)) == ["I keep bees"]
    assert slack.calls_to("reactions.add") == []
