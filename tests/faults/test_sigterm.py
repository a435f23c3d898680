"""SIGTERM while a message is being answered: the answer is given, learned, then a clean exit."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp

from bot.storage import open_storage
from memory.storage.repository import MemoryRepository
from tests.fakes.openai_server import ChatRequest, FakeOpenAI, FakeResponse
from tests.fakes.slack import FakeSlack, dm_event, event_envelope, post_signed
from tests.processes import bot_env, start_bot
from tests.test_bot_e2e import SIGNING_SECRET, SLACK_TOKEN, free_port, wait_healthy
from tests.test_console_e2e import responder, run_bot


def slow_chat(request: ChatRequest) -> FakeResponse:
    answer = responder(request)
    return answer if request.tool_names() else answer.with_delay(1.0)


async def test_sigterm_finishes_the_message_in_flight_then_exits_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeOpenAI(slow_chat) as fake:
        env = bot_env(fake.base_url, data)
        process = await start_bot("chat", "--user", "alice", env=env, cwd=tmp_path)
        assert process.stdin is not None
        process.stdin.write(b"Remember that I keep bees\n")
        await process.stdin.drain()

        def asked() -> bool:  # the question, not the start-up check
            return any("keep bees" in str(r.get("messages")) for r in fake.requests)

        for _ in range(1000):  # until the model has the question
            if asked():
                break
            await asyncio.sleep(0.01)
        assert asked(), "the bot never asked the model"
        process.send_signal(signal.SIGTERM)  # stdin stays open: only the signal ends it
        output = (await asyncio.wait_for(process.communicate(), timeout=30))[0].decode()

        assert process.returncode == 0, output
        assert "bot> Noted." in output
        assert "Saved 1 new memory" in output
        _, shown = await run_bot(fake, data, ["/memory show facts"], "--user", "alice")
    assert "I keep bees" in shown


async def test_sigterm_with_slow_learning_pending_exits_and_keeps_it_pending(
    tmp_path: Path,
) -> None:
    """Learning that would take minutes does not hold up the exit; it stays in the database."""
    data = tmp_path / "data"
    port = free_port()

    def slow_learning(request: ChatRequest) -> FakeResponse:
        answer = responder(request)
        return answer.with_delay(120.0) if request.tool_names() else answer

    async with FakeOpenAI(slow_learning) as fake, FakeSlack() as slack:
        for n in range(6):
            slack.add_user(f"U{n}", f"user{n}")
        env = bot_env(
            fake.base_url,
            data,
            SLACK_BOT_TOKEN=SLACK_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            PORT=str(port),
            SHUTDOWN_DRAIN_SECONDS="1",
        )
        process = await start_bot(env=env, cwd=tmp_path)
        async with aiohttp.ClientSession() as session:
            await wait_healthy(session, f"http://127.0.0.1:{port}")
            for n in range(6):
                body = event_envelope(dm_event(f"I like hobby{n}", user=f"U{n}", channel=f"D{n}"))
                reply = await post_signed(
                    session,
                    f"http://127.0.0.1:{port}/slack/events",
                    json.dumps(body).encode(),
                    SIGNING_SECRET,
                )
                assert reply.status == 200
            await slack.wait_for(lambda calls: len(calls) >= 6, timeout=30)
        process.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(process.communicate(), timeout=60))[0].decode()

    assert process.returncode == 0, output[-3000:]
    assert "learning stopped after" in output
    async with open_storage("", data) as storage:
        pending = await MemoryRepository(storage.store).users_with_pending()
    assert len(pending) == 6  # nothing learned, nothing lost: the next start learns it
