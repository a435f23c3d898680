"""A burst at ten times what the model can answer, against a `bot run` over signed Slack HTTP
events; and SIGTERM with events still queued. Every acknowledged message is answered exactly
once (late is fine), nothing is learned twice, and nothing logs a traceback."""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from pathlib import Path

import aiohttp

from bot.storage import open_storage
from memory.engine import APOLOGY
from memory.intake.delivery import BUSY, LATE_NOTE
from memory.storage.repository import MemoryRepository
from tests.fakes.openai_server import ChatRequest, FakeOpenAI, FakeResponse
from tests.fakes.slack import FakeSlack, dm_event, event_envelope, post_signed
from tests.processes import bot_env, start_bot
from tests.test_bot_e2e import SIGNING_SECRET, SLACK_TOKEN, free_port, wait_healthy
from tests.test_console_e2e import responder

HOBBIES = ["bees", "kites", "chess", "tuba", "yoga"]
PEOPLE = 10
# The model answers in DELAY seconds, CONCURRENCY at a time: CONCURRENCY / DELAY = 5 replies
# a second. The burst offers PEOPLE * len(HOBBIES) = 50 messages as fast as they can be posted
# (well under a second): ten times that capacity and more.
DELAY = 0.4
CONCURRENCY = 2


def _texts(slack: FakeSlack) -> list[tuple[str, str]]:
    return [
        (str(c.args.get("channel")), str(c.args.get("text")))
        for c in slack.calls_to("chat.postMessage")
    ]


def _answers(slack: FakeSlack) -> Counter[str]:
    """Replies by channel, busy notices left out."""
    return Counter(channel for channel, text in _texts(slack) if text != BUSY)


async def _send(session: aiohttp.ClientSession, url: str, person: int, text: str, ts: str) -> int:
    envelope = event_envelope(dm_event(text, user=f"U{person}", channel=f"D{person}", ts=ts))
    reply = await post_signed(session, url, json.dumps(envelope).encode(), SIGNING_SECRET)
    return reply.status


async def test_a_burst_at_ten_times_capacity_is_answered_once_and_learned_once(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def model(request: ChatRequest) -> FakeResponse:
        answer = responder(request)
        return answer if request.tool_names() else answer.with_delay(DELAY)

    async with FakeOpenAI(model) as llm, FakeSlack() as slack:
        for n in range(PEOPLE):
            slack.add_user(f"U{n}", f"user{n}")
        env = bot_env(
            llm.base_url,
            data,
            SLACK_BOT_TOKEN=SLACK_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            PORT=str(port),
            REPLY_CONCURRENCY=str(CONCURRENCY),
            BUSY_NOTICE_SECONDS="2",
            LEARN_AFTER_SECONDS="3600",
        )
        process = await start_bot(env=env, cwd=tmp_path)
        try:
            async with aiohttp.ClientSession() as session:
                await wait_healthy(session, base)
                sent = [
                    (n, f"Remember that I like {hobby}{n}", f"17{n:02d}.{k}")
                    for k, hobby in enumerate(HOBBIES)
                    for n in range(PEOPLE)
                ]
                acks = await asyncio.gather(
                    *(_send(session, f"{base}/slack/events", n, t, ts) for n, t, ts in sent)
                )
                assert acks == [200] * len(sent)
                await slack.wait_for(
                    lambda _calls: sum(_answers(slack).values()) >= len(sent), timeout=120
                )
        finally:
            process.send_signal(signal.SIGTERM)  # learns what is pending, then exits
            output = (await asyncio.wait_for(process.communicate(), timeout=90))[0].decode()

    assert process.returncode == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert _answers(slack) == {f"D{n}": len(HOBBIES) for n in range(PEOPLE)}
    assert not any(text == APOLOGY for _, text in _texts(slack))
    # Learned once: every message reached exactly one learning request.
    learning = [r.last_user_text() for r in llm.chat_requests if r.tool_names()]
    for _, text, _ in sent:
        said = text.removeprefix("Remember that ")
        assert sum(said in batch for batch in learning) == 1, said
    async with open_storage("", data) as storage:
        assert await MemoryRepository(storage.store).users_with_pending() == []


async def test_sigterm_hands_queued_events_back_and_the_next_process_answers_them_once(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    slow = {"on": True}

    def model(request: ChatRequest) -> FakeResponse:
        answer = responder(request)
        asked = "hello" in request.last_user_text()  # not the start-up check, nor learning
        return (
            answer.with_delay(30.0) if slow["on"] and asked and not request.tool_names() else answer
        )

    async with FakeOpenAI(model) as llm, FakeSlack() as slack:
        for n in range(PEOPLE):
            slack.add_user(f"U{n}", f"user{n}")
        env = bot_env(
            llm.base_url,
            data,
            SLACK_BOT_TOKEN=SLACK_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            PORT=str(port),
            REPLY_CONCURRENCY="1",
            SHUTDOWN_DRAIN_SECONDS="1",
            INBOX_LEASE_SECONDS="2",
            INBOX_RECOVER_EVERY_SECONDS="1",
        )
        first = await start_bot(env=env, cwd=tmp_path)
        async with aiohttp.ClientSession() as session:
            await wait_healthy(session, base)
            for n in range(PEOPLE):
                ts = f"18{n:02d}.1"
                assert await _send(session, f"{base}/slack/events", n, f"hello {n}", ts) == 200
            for _ in range(600):  # until one answer is being made and the rest wait for it
                if any("hello" in str(r.get("messages")) for r in llm.requests):
                    break
                await asyncio.sleep(0.05)
            first.send_signal(signal.SIGTERM)
            output = (await asyncio.wait_for(first.communicate(), timeout=60))[0].decode()
            assert first.returncode == 0, output[-3000:]
            assert _answers(slack) == Counter()  # nothing answered: all handed back

            async with open_storage("", data) as storage:
                waiting = await storage.inbox.unfinished("slack:", older_than=1e12, limit=100)
            assert len(waiting) == PEOPLE

            slow["on"] = False
            second = await start_bot(env=env, cwd=tmp_path)
            try:
                await wait_healthy(session, base)
                await slack.wait_for(
                    lambda _calls: sum(_answers(slack).values()) >= PEOPLE, timeout=60
                )
            finally:
                second.send_signal(signal.SIGTERM)
                output += (await asyncio.wait_for(second.communicate(), timeout=60))[0].decode()

    assert second.returncode == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert _answers(slack) == {f"D{n}": 1 for n in range(PEOPLE)}
    assert all(text.startswith(LATE_NOTE) for _, text in _texts(slack) if text != BUSY)
