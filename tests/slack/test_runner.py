"""The Slack adapter as the bot starts it: Socket Mode against the fake, and HTTP Events."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import aiohttp
import pytest

from adapters.slack.runner import SlackAdapter
from bot.platforms import enabled_platforms
from bot.serve import serve
from bot.settings import Settings
from bot.storage import Storage
from memory.engine import MemoryEngine
from memory.errors import ConfigurationError
from memory.intake.delivery import Delivery
from memory.intake.inbox import InboxState, MemoryInbox
from tests.fakes.slack import app_mention_event, event_envelope, slash_command_fields
from tests.slack.conftest import ALICE, APP_TOKEN, BOT_TOKEN, SECRET, Bot, SlackServer, next_ts


async def test_socket_mode_answers_a_mention_and_a_slash_command(
    engine: MemoryEngine, slack: SlackServer, wait_for_log: Any
) -> None:
    skipped = wait_for_log("skipped a redelivered event")
    task = asyncio.create_task(
        SlackAdapter(engine, bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=slack.api_url).run()
    )
    try:
        opened = await slack.wait_for_call("apps.connections.open")
        assert opened.token == APP_TOKEN

        ts = next_ts()
        event = app_mention_event("<@UBOT> Remember that I keep bees.", ts=ts)
        envelope = event_envelope(event)
        assert await slack.send_socket_envelope("events_api", envelope) is None
        reply = await slack.wait_for_call("chat.postMessage", thread_ts=ts)
        assert reply.token == BOT_TOKEN

        # A redelivery over the socket (retry_attempt=1) gives no second reply.
        await slack.send_socket_envelope("events_api", envelope, retry_attempt=1)
        await skipped.wait()
        await engine.learn_now(ALICE.key)
        await slack.wait_for_call("reactions.add", timestamp=ts)
        assert len(slack.calls_to("chat.postMessage")) == 1

        fields = slash_command_fields("show", "U1", "T1", "C1", slack.response_url("sock"))
        assert await slack.send_socket_envelope("slash_commands", dict(fields)) is None
        shown = await slack.wait_for_response("sock")
        assert "I keep bees" in shown["text"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert task.cancelled()


async def test_http_events_are_served_on_bots_web_app_beside_healthz(
    engine: MemoryEngine, storage: Storage, slack: SlackServer
) -> None:
    port = _free_port()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        model="openai:gpt-4o-mini",
        port=port,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
    )
    [platform] = enabled_platforms(settings)
    assert platform.name == "slack"
    stopping = asyncio.Event()
    task = asyncio.create_task(serve(settings, engine, storage, [platform], stopping))
    try:
        async with aiohttp.ClientSession() as session:
            health = await _until_up(session, f"http://127.0.0.1:{port}/healthz")
            assert health == {"status": "ok", "database": True, "slack": True}
            # Slack's events on the same port, through the same web app.
            bot = Bot(f"http://127.0.0.1:{port}/slack/events", session, slack, None)  # type: ignore[arg-type]
            ts = await bot.mention("hello")
            await slack.wait_for_call("chat.postMessage", thread_ts=ts)
            async with session.get(f"http://127.0.0.1:{port}/metrics") as metrics:
                assert 'bot_messages_total{platform="slack"}' in await metrics.text()
    finally:
        stopping.set()
        await task
    with pytest.raises(OSError):  # the port is closed after cancellation
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()


async def test_the_adapter_refuses_to_start_without_a_mode(engine: MemoryEngine) -> None:
    with pytest.raises(ConfigurationError, match="SLACK_APP_TOKEN"):
        await SlackAdapter(engine, bot_token=BOT_TOKEN).run()
    with pytest.raises(ConfigurationError, match="xoxb-"):
        await SlackAdapter(engine, bot_token="xoxp-user-token", signing_secret=SECRET).run()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _until_up(session: aiohttp.ClientSession, url: str) -> object:
    """The JSON at `url` once the server accepts connections (attempts, not a fixed sleep)."""
    async with asyncio.timeout(10):
        while True:
            try:
                async with session.get(url) as resp:
                    return json.loads(await resp.text())
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.02)


class FlakyInbox(MemoryInbox):
    """An inbox whose database is down while `down` is set."""

    down = True

    async def record(
        self, key: str, payload: dict[str, Any], author: str | None = None
    ) -> InboxState:
        if self.down:
            raise ConnectionError("database unavailable")
        return await super().record(key, payload, author)


async def test_socket_mode_does_not_ack_an_event_it_could_not_record(
    engine: MemoryEngine, slack: SlackServer
) -> None:
    inbox = FlakyInbox()
    task = asyncio.create_task(
        SlackAdapter(
            engine,
            bot_token=BOT_TOKEN,
            app_token=APP_TOKEN,
            api_url=slack.api_url,
            delivery=Delivery(inbox),
        ).run()
    )
    try:
        envelope = event_envelope(app_mention_event("<@UBOT> hello", ts=next_ts()))
        with pytest.raises(AssertionError, match="no ack"):
            await slack.send_socket_envelope("events_api", envelope, timeout=2)
        assert slack.calls_to("chat.postMessage") == []

        inbox.down = False  # Slack sends it again; now it is recorded, acked and answered
        await slack.send_socket_envelope("events_api", envelope, retry_attempt=1)
        await slack.wait_for_call("chat.postMessage")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_socket_mode_acks_and_drops_a_malformed_event(
    engine: MemoryEngine, slack: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    task = asyncio.create_task(
        SlackAdapter(engine, bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=slack.api_url).run()
    )
    try:
        event = app_mention_event("<@UBOT> hello", ts=next_ts())
        event["user"] = 12345  # a number where Slack sends an id
        assert await slack.send_socket_envelope("events_api", event_envelope(event)) is None
        good = app_mention_event("<@UBOT> hello", ts=next_ts())
        await slack.send_socket_envelope("events_api", event_envelope(good))
        await slack.wait_for_call("chat.postMessage")
        assert [c.args["thread_ts"] for c in slack.calls_to("chat.postMessage")] == [good["ts"]]
        assert "ignored a malformed Slack payload (fields: user)" in caplog.text
        assert not [r for r in caplog.records if r.exc_info]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
