"""`kill -9` while five acknowledged DMs are being answered, then a restart and Slack's resend
of the same events (X-Slack-Retry-Num: 1): every one is answered, exactly once."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp
import pytest

from memory.intake.delivery import LATE_NOTE
from tests.fakes.openai_server import ChatRequest, FakeOpenAI, FakeResponse
from tests.fakes.slack import FakeSlack, dm_event, event_envelope, sign_request
from tests.processes import bot_env, start_bot
from tests.test_bot_e2e import SIGNING_SECRET, SLACK_TOKEN, free_port, wait_healthy
from tests.test_console_e2e import responder

PEOPLE = 5


async def post(session: aiohttp.ClientSession, url: str, body: bytes, retry: int) -> int:
    headers = {"Content-Type": "application/json", **sign_request(SIGNING_SECRET, body)}
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    async with session.post(url, data=body, headers=headers) as response:
        return response.status


@pytest.mark.parametrize("resend", [True, False], ids=["slack-resends", "no-resend"])
async def test_events_in_flight_at_kill_9_are_answered_after_a_restart(
    tmp_path: Path, resend: bool
) -> None:
    """With no resend the restarted process finds them in the inbox and answers them late."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    slow = {"on": True}

    def model(request: ChatRequest) -> FakeResponse:
        answer = responder(request)
        return answer.with_delay(5.0) if slow["on"] and not request.tool_names() else answer

    bodies = [
        json.dumps(
            event_envelope(dm_event(f"hello {n}", user=f"U{n}", channel=f"D{n}", ts=f"17.{n}"))
        ).encode()
        for n in range(PEOPLE)
    ]
    async with FakeOpenAI(model) as llm, FakeSlack() as slack:
        for n in range(PEOPLE):
            slack.add_user(f"U{n}", f"user{n}")
        env = bot_env(
            llm.base_url,
            tmp_path / "data",
            SLACK_BOT_TOKEN=SLACK_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            PORT=str(port),
            INBOX_LEASE_SECONDS="2",
            INBOX_RECOVER_EVERY_SECONDS="1",
        )
        first = await start_bot(env=env, cwd=tmp_path)
        async with aiohttp.ClientSession() as session:
            await wait_healthy(session, base)
            acks = [await post(session, f"{base}/slack/events", b, retry=0) for b in bodies]
            assert acks == [200] * PEOPLE
            for _ in range(600):  # until every answer is being made
                if len(llm.requests) >= PEOPLE:
                    break
                await asyncio.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            await first.wait()
            assert slack.calls_to("chat.postMessage") == []

            slow["on"] = False
            second = await start_bot(env=env, cwd=tmp_path)
            try:
                await wait_healthy(session, base)
                if resend:
                    resent = [
                        await post(session, f"{base}/slack/events", b, retry=1) for b in bodies
                    ]
                    assert resent == [200] * PEOPLE
                await slack.wait_for(
                    lambda calls: (
                        {c.args.get("channel") for c in calls} >= {f"D{n}" for n in range(PEOPLE)}
                    ),
                    timeout=30,
                )
                # One more message through the same process: anything still queued is out.
                marker = event_envelope(dm_event("marker", user="U0", channel="DM", ts="18.1"))
                assert await post(session, f"{base}/slack/events", json.dumps(marker).encode(), 0)
                await slack.wait_for_call("chat.postMessage", timeout=30, channel="DM")
            finally:
                second.send_signal(signal.SIGTERM)
                output = (await asyncio.wait_for(second.communicate(), timeout=60))[0].decode()

    answered = [c.args.get("channel") for c in slack.calls_to("chat.postMessage")]
    assert sorted(answered) == sorted([f"D{n}" for n in range(PEOPLE)] + ["DM"]), output[-3000:]
    assert "Traceback" not in output
    if not resend:
        texts = [str(c.args.get("text")) for c in slack.calls_to("chat.postMessage")]
        assert sum(t.startswith(LATE_NOTE) for t in texts) == PEOPLE
