"""The Slack fake driven by the real slack-bolt and slack-sdk code, over the wire."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from .slack import (
    FakeSlack,
    app_mention_event,
    block_actions_form,
    event_envelope,
    post_signed,
    slash_command_fields,
    slash_command_form,
)

SECRET = "test-signing-secret"


def build_app(slack: FakeSlack) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token="xoxb-test", base_url=slack.api_url),
        signing_secret=SECRET,
    )

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], say: Any, context: Any) -> None:
        thread_ts = event.get("thread_ts") or event["ts"]
        await say(f"hi <@{event['user']}>, I am {context.bot_user_id}", thread_ts=thread_ts)

    @app.command("/memory")
    async def on_memory(ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack(f"working on {command['text']}")
        await respond(f"here is your memory, {command['user_id']}")

    @app.action("forget")
    async def on_forget(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(f"forgot {body['actions'][0]['value']}", replace_original=True)

    return app


def block_actions_payload(response_url: str, value: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "api_app_id": "A1",
        "container": {"type": "message", "channel_id": "C1"},
        "channel": {"id": "C1"},
        "trigger_id": "trig.1",
        "response_url": response_url,
        "actions": [{"type": "button", "action_id": "forget", "value": value}],
    }


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.add_user("U1", "alice", real_name="Alice Liddell")
        yield fake


@pytest.fixture
async def http_app(slack: FakeSlack) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    runner = web.AppRunner(build_app(slack).web_app(path="/slack/events"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            yield f"http://127.0.0.1:{port}/slack/events", session
    finally:
        await runner.cleanup()


async def test_web_client_calls_are_recorded_in_every_encoding(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    auth = await client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("UBOT", "BBOT", "T1")
    first = await client.chat_postMessage(channel="C1", text="one", blocks=[{"type": "divider"}])
    second = await client.chat_postMessage(channel="C1", text="two", thread_ts=first["ts"])
    assert float(second["ts"]) > float(first["ts"])
    assert second["message"]["thread_ts"] == first["ts"]
    await client.reactions_add(channel="C1", timestamp=first["ts"], name="brain")
    user = await client.users_info(user="U1")
    assert user["user"]["profile"]["real_name"] == "Alice Liddell"
    await client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    with pytest.raises(SlackApiError) as err:
        await client.api_call("no.such.method")
    assert err.value.response["error"] == "unknown_method"

    slack.set_thread("C1", first["ts"], [{"ts": first["ts"], "text": "one", "user": "U1"}])
    replies = await client.conversations_replies(channel="C1", ts=first["ts"])
    assert [m["text"] for m in replies["messages"]] == ["one"]

    assert [c.method for c in slack.calls] == [
        "auth.test",
        "chat.postMessage",
        "chat.postMessage",
        "reactions.add",
        "users.info",
        "views.publish",
        "no.such.method",
        "conversations.replies",
    ]
    assert all(c.token == "xoxb-test" for c in slack.calls)
    assert slack.calls[1].args["blocks"] == [{"type": "divider"}]  # JSON keeps its types
    assert slack.calls_to("reactions.add")[0].args == {
        "channel": "C1",
        "timestamp": first["ts"],
        "name": "brain",
    }
    assert slack.calls_to("views.publish")[0].args["view"]["type"] == "home"


async def test_wait_for_times_out_with_the_recorded_calls(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    await client.chat_postMessage(channel="C1", text="hello")
    with pytest.raises(AssertionError, match=r"chat.postMessage .*hello"):
        await slack.wait_for_call("chat.postMessage", timeout=0.2, text="bye")


async def test_signed_app_mention_gets_a_threaded_reply(
    slack: FakeSlack, http_app: tuple[str, aiohttp.ClientSession]
) -> None:
    url, session = http_app
    event = app_mention_event("<@UBOT> remember I like tea", user="U1", ts="1699999999.000100")
    body = json.dumps(event_envelope(event)).encode()

    reply = await post_signed(session, url, body, SECRET)

    assert reply.status == 200
    call = await slack.wait_for_call("chat.postMessage", channel="C1")
    assert call.args["thread_ts"] == "1699999999.000100"
    assert call.args["text"] == "hi <@U1>, I am UBOT"


async def test_bad_signature_is_rejected(
    slack: FakeSlack, http_app: tuple[str, aiohttp.ClientSession]
) -> None:
    url, session = http_app
    body = json.dumps(event_envelope(app_mention_event("<@UBOT> hi"))).encode()

    assert (await post_signed(session, url, body, "wrong-secret")).status == 401
    stale = await post_signed(session, url, body, SECRET, timestamp=1_000_000_000)
    assert stale.status == 401
    assert slack.calls_to("chat.postMessage") == []


async def test_slash_command_is_acked_then_answered_on_response_url(
    slack: FakeSlack, http_app: tuple[str, aiohttp.ClientSession]
) -> None:
    url, session = http_app
    body = slash_command_form("show", "U1", "T1", "C1", slack.response_url("cmd"))

    reply = await post_signed(
        session, url, body, SECRET, content_type="application/x-www-form-urlencoded"
    )

    assert reply.status == 200
    assert reply.text == "working on show"  # bolt answers ack("...") over HTTP as text/plain
    assert (await slack.wait_for_response("cmd"))["text"] == "here is your memory, U1"


async def test_block_action_answers_on_response_url(
    slack: FakeSlack, http_app: tuple[str, aiohttp.ClientSession]
) -> None:
    url, session = http_app
    body = block_actions_form(block_actions_payload(slack.response_url("action"), "M42"))

    reply = await post_signed(
        session, url, body, SECRET, content_type="application/x-www-form-urlencoded"
    )

    assert reply.status == 200
    answer = await slack.wait_for_response("action")
    assert answer == {"text": "forgot M42", "replace_original": True}


async def test_files_upload_v2_records_the_content(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)

    result = await client.files_upload_v2(
        channel="D1",
        filename="memories.json",
        content='{"likes": ["tea"]}',
        title="Your memories",
        initial_comment="here you go",
    )

    assert result["file"]["name"] == "memories.json"
    [upload] = slack.uploads.values()
    assert (upload.filename, upload.content) == ("memories.json", b'{"likes": ["tea"]}')
    complete = await slack.wait_for_call("files.completeUploadExternal", channel_id="D1")
    assert complete.args["initial_comment"] == "here you go"
    assert json.loads(complete.args["files"]) == [{"id": upload.file_id, "title": "Your memories"}]


async def test_rate_limited_post_is_retried(slack: FakeSlack) -> None:
    client = AsyncWebClient(
        token="xoxb-test",
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.fail_next("chat.postMessage", status=429, retry_after=0)

    result = await client.chat_postMessage(channel="C1", text="patience")

    assert result["ok"] is True
    assert [c.args["text"] for c in slack.calls_to("chat.postMessage")] == ["patience"] * 2


async def test_injected_error_reaches_the_caller(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    slack.fail_next("chat.postMessage", "channel_not_found")

    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C404", text="x")

    assert err.value.response["error"] == "channel_not_found"
    assert (await client.chat_postMessage(channel="C1", text="y"))["ok"] is True


async def test_socket_mode_event_and_slash_command(slack: FakeSlack) -> None:
    app = build_app(slack)
    handler = AsyncSocketModeHandler(app, "xapp-test")
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        opened = await slack.wait_for_call("apps.connections.open")
        assert opened.token == "xapp-test"

        event = app_mention_event("<@UBOT> hello", ts="1699999999.000300", thread_ts="1699.1")
        ack = await slack.send_socket_envelope("events_api", event_envelope(event))
        assert ack is None
        call = await slack.wait_for_call("chat.postMessage", thread_ts="1699.1")
        assert call.token == "xoxb-test"

        fields = slash_command_fields("show", "U1", "T1", "C1", slack.response_url("sock"))
        ack = await slack.send_socket_envelope("slash_commands", dict(fields))
        assert ack == {"text": "working on show"}
        assert (await slack.wait_for_response("sock"))["text"] == "here is your memory, U1"

        action = block_actions_payload(slack.response_url("sock-action"), "M7")
        assert await slack.send_socket_envelope("interactive", action) is None
        assert (await slack.wait_for_response("sock-action"))["text"] == "forgot M7"
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
