"""The database fails around a Slack event: the event is either refused (so Slack sends it
again) or answered exactly once, with an apology at worst; never acknowledged and dropped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg

from adapters.slack.app import build_slack_app
from bot.storage import open_storage
from memory.engine import APOLOGY
from memory.intake.delivery import Delivery, DeliveryConfig
from tests.conftest import MANUAL, engine_on
from tests.fakes.slack import dm_event, event_envelope
from tests.faults.database import unavailable
from tests.memory.scan import places_holding
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel
from tests.slack.conftest import BOT_TOKEN, SECRET, Bot, SlackServer, next_ts, serve

# places_holding only asks a storage which backend it is.
POSTGRES: Any = SimpleNamespace(kind="postgres")
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}


@asynccontextmanager
async def slack_bot(url: str, data: Path, latency: float = 0.0) -> AsyncIterator[Bot]:
    """The Slack app over HTTP on a PostgreSQL database the test can take down."""
    async with SlackServer() as slack, open_storage(url, data, pool_size=4) as storage:
        slack.add_user("U1", "alice")
        model = ScriptedChatModel(script=memory_script, latency=latency)
        engine = engine_on(storage, model, config=MANUAL)
        delivery = Delivery(storage.inbox, DeliveryConfig(lease=5.0, finish_retry_for=60.0))
        app = build_slack_app(
            engine,
            bot_token=BOT_TOKEN,
            signing_secret=SECRET,
            api_url=slack.api_url,
            delivery=delivery,
        )
        try:
            async with serve(app, slack) as bot:
                yield bot
        finally:
            await engine.scheduler.close()


def dm_body(channel: str) -> tuple[bytes, str]:
    envelope = event_envelope(dm_event("Remember that I keep bees", channel=channel, ts=next_ts()))
    return json.dumps(envelope).encode(), f"slack:{envelope['event_id']}"


async def state_of(url: str, key: str) -> str | None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute("SELECT state FROM bot_inbox WHERE event_key = %s", (key,))
        row = await cursor.fetchone()
    return str(row[0]) if row else None


async def until_state(url: str, key: str, state: str) -> None:
    for _ in range(600):
        if await state_of(url, key) == state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} never became {state}")


async def test_an_event_the_database_cannot_record_is_refused_then_answered_on_retry(
    own_database: str, tmp_path: Path
) -> None:
    async with slack_bot(own_database, tmp_path) as bot:
        body, key = dm_body("D1")
        with unavailable(own_database):
            refused = await bot.post(body, "application/json")
        assert refused.status == 503  # not acknowledged: Slack sends it again
        assert bot.slack.calls_to("chat.postMessage") == []

        for _attempt in range(30):  # Slack's retries, until the database is reachable again
            retried = await bot.post(body, "application/json", RETRY)
            if retried.status == 200:
                break
            assert retried.status == 503
        assert retried.status == 200
        posted = await bot.slack.wait_for_call("chat.postMessage", timeout=20, channel="D1")
        assert str(posted.args["text"]).startswith("Noted.")
        await until_state(own_database, key, "done")

        again = await bot.post(body, "application/json", RETRY)  # a late duplicate
        assert again.status == 200
        assert len(bot.slack.calls_to("chat.postMessage")) == 1


async def test_the_database_failing_while_an_answer_is_made_is_never_silence(
    own_database: str, tmp_path: Path
) -> None:
    async with slack_bot(own_database, tmp_path, latency=1.0) as bot:
        body, key = dm_body("D2")
        acked = await bot.post(body, "application/json")
        assert acked.status == 200
        await until_state(own_database, key, "claimed")  # the model is thinking
        with unavailable(own_database):
            posted = await bot.slack.wait_for_call("chat.postMessage", timeout=20, channel="D2")
        assert posted.args["text"] == APOLOGY or str(posted.args["text"]).startswith("Noted.")
        await until_state(own_database, key, "done")  # marked once the database was back

        again = await bot.post(body, "application/json", RETRY)
        assert again.status == 200
        assert len(bot.slack.calls_to("chat.postMessage")) == 1


async def test_a_deletion_during_an_outage_is_refused_then_applied_on_retry(
    own_database: str, tmp_path: Path
) -> None:
    """An erasure is never acked and lost: refused while it cannot be recorded, applied once."""
    async with slack_bot(own_database, tmp_path) as bot:
        body, key = dm_body("D3")
        assert (await bot.post(body, "application/json")).status == 200
        await bot.slack.wait_for_call("chat.postMessage", timeout=20, channel="D3")
        await until_state(own_database, key, "done")
        assert places_holding(POSTGRES, "keep bees", url=own_database, data_dir=tmp_path)

        said = json.loads(body)["event"]
        deletion = event_envelope(
            {
                "type": "message",
                "subtype": "message_deleted",
                "hidden": True,
                "channel": "D3",
                "channel_type": "im",
                "ts": next_ts(),
                "deleted_ts": said["ts"],
                "previous_message": {**said},
            }
        )
        deleted = json.dumps(deletion).encode()
        with unavailable(own_database):
            refused = await bot.post(deleted, "application/json")
        assert refused.status == 503  # not acknowledged: Slack sends it again

        for _attempt in range(30):  # Slack's retries, until the database is reachable again
            retried = await bot.post(deleted, "application/json", RETRY)
            if retried.status == 200:
                break
        assert retried.status == 200
        await until_state(own_database, f"slack:{deletion['event_id']}", "done")
        assert places_holding(POSTGRES, "keep bees", url=own_database, data_dir=tmp_path) == []
