"""Two bot processes on one Postgres: a redelivery to the other process gives no second reply,
and a thread answered by one process continues in the other without a new mention."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.app import build_slack_app
from bot.storage import open_storage
from memory.intake.delivery import Delivery
from tests.conftest import MANUAL, engine_on
from tests.fakes.slack import app_mention_event, dm_event
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel
from tests.slack.conftest import BOT_TOKEN, SECRET, Bot, SlackServer, next_ts, serve


@pytest.fixture
async def two_bots(
    postgres_url: str, slack: SlackServer, tmp_path: Path
) -> AsyncIterator[tuple[Bot, Bot]]:
    """Two apps, each with its own engine and its own connection pool to one database."""
    async with AsyncExitStack() as stack:
        bots: list[Bot] = []
        for _ in range(2):
            storage = await stack.enter_async_context(open_storage(postgres_url, tmp_path))
            engine = engine_on(storage, ScriptedChatModel(script=memory_script), config=MANUAL)
            stack.push_async_callback(engine.scheduler.close)
            app = build_slack_app(
                engine,
                bot_token=BOT_TOKEN,
                signing_secret=SECRET,
                api_url=slack.api_url,
                delivery=Delivery(storage.inbox),
            )
            bots.append(await stack.enter_async_context(serve(app, slack)))
        yield bots[0], bots[1]


async def test_a_redelivery_to_another_process_is_not_answered_twice(
    two_bots: tuple[Bot, Bot], wait_for_log: Any
) -> None:
    first, second = two_bots
    skipped = wait_for_log("skipped a redelivered event")
    event = dm_event("hello", channel=_unique("D"), ts=next_ts())
    _, event_id = await first.event(event)
    await first.slack.wait_for_call("chat.postMessage", channel=event["channel"])

    await second.event(event, event_id=event_id, retry=1)

    await skipped.wait()
    assert len(first.slack.calls_to("chat.postMessage")) == 1


async def test_a_thread_answered_by_one_process_continues_in_the_other(
    two_bots: tuple[Bot, Bot],
) -> None:
    first, second = two_bots
    channel = _unique("C")
    root = next_ts()
    await first.event(app_mention_event("<@UBOT> hello", channel=channel, ts=root))
    await first.slack.wait_for_call("chat.postMessage", channel=channel, thread_ts=root)

    follow_up = dm_event("and then?", user="U2", channel=channel, ts=next_ts())
    follow_up.update(channel_type="channel", thread_ts=root)
    await second.event(follow_up)

    await second.slack.wait_for(
        lambda calls: len([c for c in calls if c.args.get("thread_ts") == root]) == 2
    )


def _unique(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:8].upper()
