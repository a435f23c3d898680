"""The edge refuses cleanly: unsigned or garbage bodies get 401/400, signed payloads with
wrong-typed fields are dropped with one warning; never a 5xx, never a traceback."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from adapters.slack.app import build_slack_app
from memory.engine import MemoryEngine
from tests.fakes.slack import (
    app_mention_event,
    block_actions_form,
    dm_event,
    event_envelope,
    sign_request,
)
from tests.slack.conftest import SECRET, Bot, SlackServer, next_ts, serve


def nested_blocks_body(depth: int) -> bytes:
    """A DM whose rich text nests `depth` levels, written as text (json.dumps would recurse)."""
    envelope = event_envelope(dm_event("hello", ts=next_ts()))
    envelope["event"]["blocks"] = "BLOCKS"
    inner = '{"type": "rich_text_section", "elements": [' * depth
    inner += '{"type": "text", "text": "deep"}' + "]}" * depth
    return (
        json.dumps(envelope)
        .replace('"BLOCKS"', f'[{{"type": "rich_text", "elements": [{inner}]}}]')
        .encode()
    )


def malformed_events() -> list[dict[str, Any]]:
    """Signed envelopes whose event has a field of the wrong type or shape."""

    def dm(**changes: Any) -> dict[str, Any]:
        event = dm_event("hello", ts=next_ts())
        event.update(changes)
        return event

    mention_without_ts = app_mention_event("<@UBOT> hi", ts=next_ts())
    del mention_without_ts["ts"]
    events: list[Any] = [
        dm(subtype=["bot_message"]),
        dm(user=12345),
        dm(ts="1e400"),
        dm(ts="NaN"),
        dm(text={"not": "text"}),
        dm(thread_ts=7),
        dm(channel=None),
        mention_without_ts,
        {"type": ["message"]},
    ]
    envelopes = [event_envelope(e) for e in events]
    envelopes += [
        {**event_envelope(dm_event("hi", ts=next_ts())), "event": "not an object"},
        {**event_envelope(dm_event("hi", ts=next_ts())), "event_id": 42},
        {**event_envelope(dm_event("hi", ts=next_ts())), "authorizations": "all"},
        {"type": 5},
    ]
    return envelopes


async def post_raw(bot: Bot, body: bytes, headers: dict[str, str]) -> int:
    async with bot.session.post(bot.url, data=body, headers=headers) as response:
        return response.status


async def test_garbage_gets_4xx_and_malformed_events_are_dropped_without_a_traceback(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    json_type = {"Content-Type": "application/json"}
    statuses: dict[str, int] = {}

    statuses["unsigned {"] = await post_raw(bot, b"{", json_type)
    statuses["unsigned dm"] = await post_raw(
        bot, json.dumps(event_envelope(dm_event("hi"))).encode(), json_type
    )
    bad_timestamp = {**json_type, "X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=0"}
    statuses["timestamp soon"] = await post_raw(bot, b"{}", bad_timestamp)
    huge = {**json_type, "X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=0"}
    statuses["timestamp 9x40"] = await post_raw(bot, b"{}", huge)
    for name, body in {
        "signed {": b"{",
        "signed latin-1": '{"type": "caf\xe9"}'.encode("latin-1"),
        "signed deep json": b"[" * 5000 + b"]" * 5000,
        "signed form payload": b"payload=%7Bnope",
    }.items():
        statuses[name] = await post_raw(bot, body, {**json_type, **sign_request(SECRET, body)})
    stale = sign_request(SECRET, b"{}", timestamp=int(time.time()) - 3600)
    statuses["stale"] = await post_raw(bot, b"{}", {**json_type, **stale})

    assert statuses == {
        "unsigned {": 401,
        "unsigned dm": 401,
        "timestamp soon": 400,
        "timestamp 9x40": 400,
        "signed {": 400,
        "signed latin-1": 400,
        "signed deep json": 400,
        "signed form payload": 400,
        "stale": 401,
    }

    for body in [json.dumps(e).encode() for e in malformed_events()]:
        reply = await bot.post(body, "application/json")
        assert reply.status == 200, body[:300]  # acknowledged: Slack would only resend it
    # Too deep to read at all (the JSON reader's own limit) or to pass validation.
    assert (await bot.post(nested_blocks_body(500), "application/json")).status in (200, 400)

    # A well-formed DM afterwards is answered: the app is fine, and nothing else was.
    await bot.dm("Remember that I keep bees", channel="DOK")
    await bot.slack.wait_for_call("chat.postMessage", channel="DOK")
    assert [c.args["channel"] for c in bot.slack.calls_to("chat.postMessage")] == ["DOK"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "deep" not in caplog.text and "hello" not in caplog.text  # no message text logged


async def test_malformed_interactive_payloads_are_dropped_without_a_traceback(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    presser = {"id": "U1", "team_id": "T1"}
    action = {"type": "button", "action_id": "memory_forget", "value": '{"o": "x", "i": "y"}'}
    payloads = [
        {"type": "view_submission", "user": presser, "view": {"id": "V1"}},  # no view.type
        {"type": "view_closed", "user": presser, "view": "closed"},
        # Nowhere to answer: neither a message's response_url nor an App Home view.
        {"type": "block_actions", "user": presser, "actions": [action]},
    ]
    for payload in payloads:
        reply = await bot.post(block_actions_form(payload), "application/x-www-form-urlencoded")
        assert reply.status == 200, payload  # acknowledged and dropped

    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert any("malformed" in r.getMessage() for r in caplog.records)


async def test_an_unreachable_slack_api_is_one_log_line_per_event(
    engine: MemoryEngine, slack: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = build_slack_app(
        engine, bot_token="xoxb-test", signing_secret=SECRET, api_url="http://127.0.0.1:9/api/"
    )
    async with serve(app, slack) as bot:
        body = json.dumps(event_envelope(dm_event("hello", ts=next_ts()))).encode()
        reply = await bot.post(body, "application/json")

    assert reply.status >= 400  # not acknowledged: Slack sends it again
    failures = [r for r in caplog.records if "Slack listener failed" in r.getMessage()]
    assert failures and not any(r.exc_info for r in failures)
