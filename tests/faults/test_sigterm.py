"""SIGTERM while a message is being answered: the answer is given, learned, then a clean exit."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.fakes.openai_server import ChatRequest, FakeOpenAI, FakeResponse
from tests.processes import bot_env, start_bot
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
