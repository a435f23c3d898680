"""Logs: no token or signing secret at any level, and no message text at INFO or above."""

from __future__ import annotations

import asyncio
import logging

import pytest

from adapters.slack.runner import run_slack
from memory.engine import MemoryEngine
from tests.fakes.slack import app_mention_event, event_envelope, slash_command_fields
from tests.slack.conftest import (
    ALICE,
    APP_TOKEN,
    BOT_TOKEN,
    SECRET,
    Bot,
    SlackServer,
    button,
    next_ts,
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
        run_slack(engine, bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=slack.api_url)
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


def _assert_clean(caplog: pytest.LogCaptureFixture) -> None:
    everything = "\n".join(
        f"{r.getMessage()} {r.__dict__} {r.exc_text or ''}" for r in caplog.records
    )
    for secret in (BOT_TOKEN, APP_TOKEN, SECRET):
        assert secret not in everything
    assert "xoxb-" not in everything and "xapp-" not in everything
    loud = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert not [r.getMessage() for r in loud if "4711" in f"{r.getMessage()} {r.__dict__}"]
