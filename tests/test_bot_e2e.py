"""The bot as the Procfile starts it (`bot`), with Slack and Discord tokens set, against local
Slack, Discord and OpenAI-compatible servers: it answers on both, reports health and metrics,
keeps tokens out of its logs, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
from pathlib import Path

import aiohttp

from tests.fakes.discord import TOKEN as DISCORD_TOKEN
from tests.fakes.discord import USER_ID, FakeDiscord
from tests.fakes.openai_server import ChatRequest, FakeOpenAI, FakeResponse
from tests.fakes.slack import FakeSlack, dm_event, event_envelope, post_signed
from tests.processes import bot_env, start_bot
from tests.scrape import parse, value
from tests.test_console_e2e import responder

SLACK_TOKEN = "xoxb-1111-2222-e2esecrettoken"
SIGNING_SECRET = "e2e-signing-secret-123456"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_healthy(session: aiohttp.ClientSession, base: str) -> dict[str, object]:
    for _ in range(600):
        try:
            async with session.get(f"{base}/healthz") as response:
                body = await response.json()
                if response.status == 200:
                    return dict(body)
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("the bot never became healthy")


async def test_bot_serves_slack_and_discord_then_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with FakeOpenAI(responder) as llm, FakeSlack() as slack, FakeDiscord() as discord:
        slack.add_user("U1", "alice", real_name="Alice")
        env = bot_env(
            llm.base_url,
            tmp_path / "data",
            SLACK_BOT_TOKEN=SLACK_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            DISCORD_TOKEN=DISCORD_TOKEN,
            DISCORD_API_URL=discord.api_base.removesuffix("/api/v10"),
            PORT=str(port),
            LOG_LEVEL="DEBUG",
        )
        bot = await start_bot(env=env, cwd=tmp_path)
        try:
            async with aiohttp.ClientSession() as session:
                health = await wait_healthy(session, base)
                assert health == {"status": "ok", "database": True, "slack": True, "discord": True}

                body = json.dumps(event_envelope(dm_event("Remember that I keep bees"))).encode()
                reply = await post_signed(
                    session, f"{base}/slack/events", body, SIGNING_SECRET, "application/json"
                )
                assert reply.status == 200
                posted = await slack.wait_for_call("chat.postMessage", timeout=20)
                assert "Noted" in str(posted.args.get("text"))

                await discord.wait_for_gateway(2, timeout=20)
                await discord.dispatch("MESSAGE_CREATE", discord.message_create("hi", USER_ID))
                answer = await discord.wait_for_request(
                    "POST", r"/channels/\d+/messages", timeout=20
                )
                assert answer.json is not None and "Noted" in str(answer.json.get("content"))

                async with session.get(f"{base}/metrics") as response:
                    _, metrics = parse(await response.text())
                assert value(metrics, "bot_messages_total", platform="slack") == 1
                assert value(metrics, "bot_messages_total", platform="discord") == 1
                assert value(metrics, "bot_reply_seconds_count") == 2
        finally:
            bot.send_signal(signal.SIGTERM)
            output = (await asyncio.wait_for(bot.communicate(), timeout=60))[0].decode()

    assert bot.returncode == 0, output[-3000:]
    for secret in (SLACK_TOKEN, SIGNING_SECRET, DISCORD_TOKEN):
        assert secret not in output
    above_debug = [line for line in output.splitlines() if " DEBUG " not in line]
    assert above_debug, "the bot logged at INFO"
    assert not [line for line in above_debug if "keep bees" in line]  # no message text at INFO


async def test_sigterm_during_load_answers_every_acknowledged_message(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def slow(request: ChatRequest) -> FakeResponse:
        answer = responder(request)
        return answer if request.tool_names() else answer.with_delay(0.5)

    async with FakeOpenAI(slow) as llm, FakeSlack() as slack:
        for n in range(6):
            slack.add_user(f"U{n}", f"user{n}")
        env = bot_env(
            llm.base_url,
            tmp_path / "data",
            SLACK_BOT_TOKEN=SLACK_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            PORT=str(port),
        )
        bot = await start_bot(env=env, cwd=tmp_path)
        async with aiohttp.ClientSession() as session:
            await wait_healthy(session, base)
            acks = await asyncio.gather(
                *(
                    post_signed(
                        session,
                        f"{base}/slack/events",
                        json.dumps(
                            event_envelope(
                                dm_event(
                                    f"Remember that I am user {n}", user=f"U{n}", channel=f"D{n}"
                                )
                            )
                        ).encode(),
                        SIGNING_SECRET,
                        "application/json",
                    )
                    for n in range(6)
                )
            )
            assert [a.status for a in acks] == [200] * 6
            bot.send_signal(signal.SIGTERM)  # while the six answers are still being made
        output = (await asyncio.wait_for(bot.communicate(), timeout=60))[0].decode()
        answered = {call.args.get("channel") for call in slack.calls_to("chat.postMessage")}

    assert bot.returncode == 0, output[-3000:]
    assert answered == {f"D{n}" for n in range(6)}


async def test_an_adapter_that_cannot_run_makes_the_process_exit_non_zero(tmp_path: Path) -> None:
    port = free_port()
    async with FakeOpenAI(responder) as llm, FakeSlack() as slack:
        env = bot_env(
            llm.base_url,
            tmp_path / "data",
            SLACK_BOT_TOKEN=SLACK_TOKEN,
            SLACK_APP_TOKEN="xapp-1-A1-1-e2eapptoken",  # Socket Mode: /healthz on its own server
            SLACK_API_URL=slack.api_url,
            DISCORD_TOKEN="abc",
            DISCORD_API_URL=f"http://127.0.0.1:{free_port()}",  # nothing listens there
            PORT=str(port),
        )
        process = await start_bot(env=env, cwd=tmp_path)
        statuses: list[int] = []
        async with aiohttp.ClientSession() as session:
            while process.returncode is None:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        statuses.append(response.status)
                except aiohttp.ClientError:
                    pass
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), 0.05)
        output = (await process.stdout.read()).decode() if process.stdout else ""

    assert process.returncode == 1, output
    assert "bot: could not keep running: discord" in output
    # Health while draining is checked in tests/test_platforms.py: with nothing in flight the
    # drain here takes no time, so the port may close before any probe lands.
    assert 200 not in statuses[-1:], statuses
