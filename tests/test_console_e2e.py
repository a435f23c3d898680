"""The console as a user starts it: `bot chat`, MODEL=openai:..., an OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.fakes.openai_server import ChatRequest, FakeOpenAI, FakeResponse
from tests.processes import bot_env, start_bot
from tests.rules import chat_reply, extraction_calls


def responder(request: ChatRequest) -> FakeResponse:
    """The rule-following stand-in, spoken over the OpenAI wire format."""
    tools = request.tool_names()
    if "Fact" in tools or "PatchDoc" in tools:
        calls = extraction_calls(request.last_user_text(), request.system_text())
        if not calls:
            return FakeResponse.text("")
        return FakeResponse.calls([(c["name"], c["args"]) for c in calls])
    return FakeResponse.text(chat_reply(request.system_text()))


async def run_bot(fake: FakeOpenAI, data: Path, lines: list[str], *args: str) -> tuple[int, str]:
    env = bot_env(fake.base_url, data, LOG_LEVEL="INFO")
    process = await start_bot("chat", *args, env=env, cwd=data.parent)
    output, _ = await asyncio.wait_for(
        process.communicate("\n".join(lines).encode() + b"\n"), timeout=60
    )
    return process.returncode or 0, output.decode()


async def test_console_remembers_across_sessions(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeOpenAI(responder) as fake:
        code, first = await run_bot(
            fake, data, ["Hi, my name is Alice.", "Remember that I keep bees."], "--user", "alice"
        )
        assert code == 0, first
        assert first.count("bot> ") == 2

        code, second = await run_bot(
            fake, data, ["What do you know about me?", "/memory show facts"], "--user", "alice"
        )
        assert code == 0, second
        assert "name: Alice" in second and "I keep bees" in second
        assert "learned in a DM on console" in second

        code, other = await run_bot(fake, data, ["What do you know about me?"], "--user", "bob")
        assert code == 0, other
        assert "bees" not in other and "Alice" not in other

    assert any(r.get("tools") for r in fake.requests), "learning went through tool calls"
    assert (data / "memory.sqlite").exists() and (data / "checkpoints.sqlite").exists()


async def test_console_answers_bad_memory_commands_and_missing_model(tmp_path: Path) -> None:
    async with FakeOpenAI(responder) as fake:
        code, output = await run_bot(fake, tmp_path / "data", ["/memory dance"], "--user", "al")
    assert code == 0
    assert "I don't know `dance`" in output and "/memory forget <id>" in output

    env = {k: v for k, v in os.environ.items() if k not in ("MODEL", "OPENAI_API_KEY")}
    env["MODEL"] = "openai:gpt-test"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "chat",
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    _, err = await process.communicate()
    assert process.returncode == 2
    assert b"needs OPENAI_API_KEY" in err


async def test_a_session_can_be_resumed_and_a_bad_id_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeOpenAI(responder) as fake:
        _, first = await run_bot(fake, data, ["hello there"], "--user", "al")
        session = first.split("session ", 1)[1].split(":", 1)[0]
        code, resumed = await run_bot(fake, data, ["again"], "--user", "al", "--resume", session)
        assert code == 0 and f"session {session}" in resumed
        chat_turns = [r for r in fake.requests if not r.get("tools")]  # not the learning calls
        history = chat_turns[-1]["messages"]
        assert any("hello there" in str(m.get("content")) for m in history)  # same thread

        code, refused = await run_bot(fake, data, ["x"], "--user", "al", "--resume", "bad id!")
    assert code == 2 and "invalid conversation id" in refused
    # One line, and the shutdown after it (stopping the sweeper mid-query) broke nothing.
    assert refused.strip().count("\n") == 0 and "Traceback" not in refused, refused


async def test_encrypted_memory_without_its_key_is_a_start_up_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeOpenAI(responder) as fake:
        sealed = bot_env(fake.base_url, data, MEMORY_ENCRYPTION_KEY="the first key")
        process = await start_bot("chat", "--user", "al", env=sealed, cwd=tmp_path)
        await asyncio.wait_for(process.communicate(b"Remember that I keep bees.\n"), timeout=60)
        assert process.returncode == 0

        for key in (None, "a wrong key"):
            env = bot_env(fake.base_url, data)
            env.pop("MEMORY_ENCRYPTION_KEY", None)
            if key:
                env["MEMORY_ENCRYPTION_KEY"] = key
            process = await start_bot("chat", "--user", "al", env=env, cwd=tmp_path)
            output, _ = await asyncio.wait_for(process.communicate(b"/memory show\n"), timeout=60)
            text = output.decode()
            assert process.returncode == 2, text
            assert "MEMORY_ENCRYPTION_KEY" in text and "Traceback" not in text
            assert "bees" not in text


async def test_a_forgotten_fact_is_not_answered_from_a_resumed_conversation(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    async with FakeOpenAI(responder) as fake:
        _, first = await run_bot(
            fake, data, ["Remember that I work at Acme Robotics."], "--user", "al"
        )
        session = first.split("session ", 1)[1].split(":", 1)[0]
        _, shown = await run_bot(fake, data, ["/memory show facts"], "--user", "al")
        item_id = shown.split("[", 1)[1].split("]", 1)[0]

        lines = [f"/memory forget {item_id}", "Where do I work?"]
        code, resumed = await run_bot(fake, data, lines, "--user", "al", "--resume", session)

        assert code == 0 and "Forgotten: I work at Acme Robotics" in resumed
        chat_turns = [r for r in fake.requests if not r.get("tools")]
        assert "Acme" not in str(chat_turns[-1]["messages"])


async def test_an_empty_user_or_an_unknown_session_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeOpenAI(responder) as fake:
        code, empty = await run_bot(fake, data, ["hello"], "--user", "")
        assert code == 2 and "--user needs a name" in empty
        code, unknown = await run_bot(fake, data, ["hello"], "--user", "al", "--resume", "abcd1234")
        assert code == 2 and "no session abcd1234 for --user al" in unknown
        assert "bot> " not in unknown  # nothing was answered in a new session


async def test_distinct_console_names_are_distinct_people(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeOpenAI(responder) as fake:
        for name, line in (("Dana.Lee", "I keep bees"), ("王芳", "I grow tea")):
            code, said = await run_bot(fake, data, [f"Remember that {line}."], "--user", name)
            assert code == 0, said
        shown = {}
        for name in ("Dana.Lee", "dana lee", "王芳"):
            code, shown[name] = await run_bot(fake, data, ["/memory show facts"], "--user", name)
            assert code == 0, shown[name]
    assert "I keep bees" in shown["Dana.Lee"] and "tea" not in shown["Dana.Lee"]
    assert "bees" not in shown["dana lee"] and "tea" not in shown["dana lee"]
    assert "I grow tea" in shown["王芳"] and "bees" not in shown["王芳"]
