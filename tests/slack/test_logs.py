"""Logs: no token or signing secret at any level, and no message text at INFO or above."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from adapters.slack.app import build_slack_app
from adapters.slack.runner import SlackAdapter
from bot.logs import configure_logging
from memory.engine import MemoryEngine
from tests.fakes.slack import (
    app_mention_event,
    dm_event,
    event_envelope,
    sign_request,
    slash_command_fields,
)
from tests.logcheck import loud_records_saying, said
from tests.slack.conftest import (
    ALICE,
    APP_TOKEN,
    BOT_TOKEN,
    SECRET,
    Bot,
    SlackServer,
    button,
    next_ts,
    serve,
)

SECRET_TEXT = "Remember that my locker code is 4711."


async def test_no_secret_in_debug_logs_over_http(
    bot: Bot, engine: MemoryEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot.slack.fail_next("chat.postMessage", "channel_not_found")
    await bot.dm(SECRET_TEXT)
    await bot.slack.wait_for_call("chat.postMessage", channel="D1")
    ts = await bot.mention(SECRET_TEXT)
    await bot.slack.wait_for_call("chat.postMessage", thread_ts=ts)
    await engine.learn_now(ALICE.key)
    await bot.slack.wait_for_call("reactions.add", timestamp=ts)
    shown = await bot.command("show")
    await bot.press(button(shown["blocks"], "memory_export"))
    await bot.slack.wait_for_call("files.completeUploadExternal")

    assert caplog.records, "expected the libraries and the adapter to log at DEBUG"
    _assert_clean(caplog)


async def test_no_secret_in_debug_logs_over_socket_mode(
    engine: MemoryEngine, slack: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    task = asyncio.create_task(
        SlackAdapter(engine, bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=slack.api_url).run()
    )
    try:
        ts = next_ts()
        event = app_mention_event(f"<@UBOT> {SECRET_TEXT}", ts=ts)
        await slack.send_socket_envelope("events_api", event_envelope(event))
        await slack.wait_for_call("chat.postMessage", thread_ts=ts)
        fields = slash_command_fields("show", "U1", "T1", "C1", slack.response_url("s"))
        await slack.send_socket_envelope("slash_commands", dict(fields))
        await slack.wait_for_response("s")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert any("envelope_id" in r.getMessage() for r in caplog.records)  # Socket Mode logged
    _assert_clean(caplog)


async def test_a_rejected_request_body_is_not_logged_at_info(
    engine: MemoryEngine, slack: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The level is set before the app is built: bolt copies it onto its loggers then.
    caplog.set_level(logging.INFO)
    app = build_slack_app(engine, bot_token=BOT_TOKEN, signing_secret=SECRET, api_url=slack.api_url)
    async with serve(app, slack) as bot:
        body = json.dumps(event_envelope(dm_event(SECRET_TEXT, ts=next_ts()))).encode()
        headers = {"Content-Type": "application/json", **sign_request("not-the-secret", body)}
        async with bot.session.post(bot.url, data=body, headers=headers) as resp:
            assert resp.status == 401

    assert not loud_records_saying(caplog.records, "4711")
    assert not bot.slack.calls_to("chat.postMessage")


async def test_a_body_cannot_forge_a_log_line(
    engine: MemoryEngine, slack: SlackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    forged = "2026-11-29 23:59:59,000 ERROR memory.engine: all memories deleted"
    try:
        configure_logging("DEBUG", [], style="text")
        app = build_slack_app(
            engine, bot_token=BOT_TOKEN, signing_secret=SECRET, api_url=slack.api_url
        )
        async with serve(app, slack) as bot:
            body = f"hello\n{forged}\r\n{forged}".encode()
            headers = {"Content-Type": "text/plain", **sign_request("wrong", body)}
            async with bot.session.post(bot.url, data=body, headers=headers) as resp:
                assert resp.status == 401
        logging.getLogger("adapters.slack").debug("received %s", body.decode())
    finally:
        root.handlers[:], root.level = handlers, level

    lines = capsys.readouterr().err.splitlines()
    assert any("received hello" in line for line in lines)
    assert not [line for line in lines if line.startswith("2026-11-29 23:59:59")]


def _assert_clean(caplog: pytest.LogCaptureFixture) -> None:
    everything = "\n".join(said(r) for r in caplog.records)
    for secret in (BOT_TOKEN, APP_TOKEN, SECRET):
        assert secret not in everything
    assert "xoxb-" not in everything and "xapp-" not in everything
    assert not loud_records_saying(caplog.records, "4711")
