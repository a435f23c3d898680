"""`bot` started as a user starts it, with SLACK_CLIENT_ID / SLACK_CLIENT_SECRET instead of a bot
token: a workspace installs it from /slack/install, and its DM is answered with its own token."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp

from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack, dm_event, event_envelope, post_signed
from tests.processes import bot_env, start_bot
from tests.slack.test_oauth import CLIENT_ID, CLIENT_SECRET, install
from tests.test_bot_e2e import SIGNING_SECRET, free_port, wait_healthy
from tests.test_console_e2e import responder


async def test_the_bot_installs_into_a_workspace_and_answers_it(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with FakeOpenAI(responder) as llm, FakeSlack() as slack:
        slack.add_user("U1", "alice", real_name="Alice")
        slack.grant("code-e2e", team_id="T7", bot_token="xoxb-seven-token")
        env = bot_env(
            llm.base_url,
            tmp_path / "data",
            SLACK_CLIENT_ID=CLIENT_ID,
            SLACK_CLIENT_SECRET=CLIENT_SECRET,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            PORT=str(port),
        )
        bot = await start_bot(env=env, cwd=tmp_path)
        try:
            async with aiohttp.ClientSession() as session:
                await wait_healthy(session, base)
                await install(session, base, "code-e2e")
                body = json.dumps(event_envelope(dm_event("hi there"), team_id="T7")).encode()
                reply = await post_signed(
                    session, f"{base}/slack/events", body, SIGNING_SECRET, "application/json"
                )
                assert reply.status == 200
                posted = await slack.wait_for_call("chat.postMessage", timeout=20)
                assert posted.token == "xoxb-seven-token"
        finally:
            bot.send_signal(signal.SIGTERM)
            output = (await asyncio.wait_for(bot.communicate(), timeout=60))[0].decode()
    assert bot.returncode == 0, output[-3000:]
    for secret in (CLIENT_SECRET, SIGNING_SECRET, "xoxb-seven-token"):
        assert secret not in output
