"""Settings as a newcomer writes them: `.env` reaches the provider package; a model that
cannot answer, or a database that cannot be reached, is said in one line naming the variable
to fix, never a traceback."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
from pathlib import Path

import pytest

from memory.engine import APOLOGY
from tests.fakes.openai_server import FakeOpenAI
from tests.processes import start_bot
from tests.test_console_e2e import responder


def clean_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """No provider or model variables from this process: only what the test gives."""
    dropped = ("OPENAI_", "ANTHROPIC_", "OLLAMA_", "LANGSMITH", "MODEL", "CHECK_MODEL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    return {**env, "DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": "", **settings}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def chat(tmp_path: Path, env: dict[str, str], *lines: str) -> tuple[int, str]:
    process = await start_bot("chat", "--user", "al", env=env, cwd=tmp_path)
    out, _ = await asyncio.wait_for(process.communicate("\n".join(lines).encode() + b"\n"), 90)
    return process.returncode or 0, out.decode()


async def test_provider_settings_in_dotenv_reach_the_model(tmp_path: Path) -> None:
    async with FakeOpenAI(responder) as fake:
        (tmp_path / ".env").write_text(
            f"MODEL=openai:gpt-test\nOPENAI_API_KEY=test\nOPENAI_BASE_URL={fake.base_url}\n"
        )
        code, output = await chat(tmp_path, clean_env(tmp_path), "hello")
    assert code == 0, output
    assert "bot> Noted." in output
    assert any(not r.get("tools") for r in fake.requests)  # the fake, not the real provider


async def test_only_the_base_url_in_dotenv_is_used_too(tmp_path: Path) -> None:
    async with FakeOpenAI(responder) as fake:
        (tmp_path / ".env").write_text(f"OPENAI_BASE_URL={fake.base_url}\n")
        env = clean_env(tmp_path, MODEL="openai:gpt-test", OPENAI_API_KEY="test")
        code, output = await chat(tmp_path, env, "hello")
    assert code == 0, output
    assert fake.requests


async def test_a_model_server_that_is_down_is_named_at_start(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    env = clean_env(tmp_path, MODEL="openai:gpt-test", OPENAI_API_KEY="t", OPENAI_BASE_URL=url)
    code, output = await chat(tmp_path, env, "hello")
    assert code == 2
    assert f"Check OPENAI_BASE_URL={url}" in output and "cannot reach" in output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1


async def test_a_base_url_without_v1_is_named_at_start(tmp_path: Path) -> None:
    async with FakeOpenAI(responder) as fake:
        env = clean_env(
            tmp_path, MODEL="openai:gpt-test", OPENAI_API_KEY="t", OPENAI_BASE_URL=fake.url
        )
        code, output = await chat(tmp_path, env, "hello")
    assert code == 2
    assert "no such model or path" in output and "end in /v1" in output
    assert "Traceback" not in output


async def test_a_model_without_a_provider_or_key_is_named(tmp_path: Path) -> None:
    code, output = await chat(tmp_path, clean_env(tmp_path, MODEL="gpt-4o-mini"), "hello")
    assert code == 2 and "needs OPENAI_API_KEY" in output
    code, output = await chat(tmp_path, clean_env(tmp_path, MODEL="llama-local"), "hello")
    assert code == 2 and "names no provider" in output


async def test_ollama_without_its_package_or_server_is_named(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    env = clean_env(tmp_path, MODEL="ollama:llama3.1", OLLAMA_BASE_URL=url)
    code, output = await chat(tmp_path, env, "hello")
    assert code == 2 and "Traceback" not in output
    if importlib.util.find_spec("langchain_ollama") is None:
        assert 'pip install "memory-bot[ollama]"' in output
    else:
        assert "OLLAMA_BASE_URL" in output


async def test_without_the_check_each_failure_is_one_line_and_a_polite_reply(
    tmp_path: Path,
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    env = clean_env(
        tmp_path,
        MODEL="openai:gpt-test",
        OPENAI_API_KEY="t",
        OPENAI_BASE_URL=url,
        CHECK_MODEL_AT_START="false",
    )
    code, output = await chat(tmp_path, env, "hello", "again")
    assert code == 0, output
    assert output.count(f"bot> {APOLOGY}") == 2
    failures = [line for line in output.splitlines() if "reply failed" in line]
    assert len(failures) == 2 and all("cannot reach the model server" in f for f in failures)
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (f"127.0.0.1:{closed_port()}/postgres", "Connection refused"),
        ("127.0.0.1:5432/no_such_database_here", 'database "no_such_database_here"'),
        ("127.0.0.1:5432/postgres?user=no_such_role", 'role "no_such_role"'),
    ],
    ids=["port", "database", "role"],
)
async def test_a_bad_database_url_is_one_line_naming_it(
    tmp_path: Path, path: str, reason: str
) -> None:
    env = clean_env(
        tmp_path,
        MODEL="openai:gpt-test",
        OPENAI_API_KEY="t",
        CHECK_MODEL_AT_START="false",
        DATABASE_URL=f"postgresql://postgres:pw-not-shown@{path}",
    )
    code, output = await chat(tmp_path, env, "hello")
    assert code == 2
    [line] = output.strip().splitlines()
    assert line.startswith("bot: DATABASE_URL: cannot connect") and reason in line
    assert "pw-not-shown" not in line
