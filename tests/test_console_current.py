"""A console session sees what it was just told: show right after telling lists it (no wait for
the quiet period), and the exit line says what was saved."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAI
from tests.processes import bot_env, start_bot
from tests.test_console_e2e import responder, run_bot


async def test_show_right_after_telling_lists_the_new_memory(tmp_path: Path) -> None:
    async with FakeOpenAI(responder) as fake:
        code, output = await run_bot(
            fake, tmp_path / "data", ["Remember that I keep bees.", "/memory show"], "--user", "al"
        )
    assert code == 0, output
    shown = output.split("bot> ", 1)[1]
    assert "I keep bees" in shown and "I don't remember anything" not in shown
    assert "Saved 1 new memory." in output  # the whole session's, learned before the show


async def test_the_exit_line_says_what_was_saved(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeOpenAI(responder) as fake:
        _, told = await run_bot(
            fake, data, ["My name is Al.", "Remember that I keep bees."], "--user", "al"
        )
        _, idle = await run_bot(fake, data, ["hello"], "--user", "al")
    assert "Saved 2 new memories." in told
    assert "Nothing new to remember." in idle


@pytest.mark.parametrize("notices", ["message", "reaction"])
async def test_show_still_learning_prints_what_changed_when_it_is_done(
    tmp_path: Path, notices: str
) -> None:
    # The show does not wait at all, so it answers while learning runs, and says so.
    lines = ["Remember that I keep bees.", "/memory show facts"]
    async with FakeOpenAI(responder) as fake:
        env = bot_env(
            fake.base_url, tmp_path / "data", MEMORY_SHOW_WAIT_SECONDS="0", MEMORY_NOTICES=notices
        )
        process = await start_bot("chat", "--user", "al", env=env, cwd=tmp_path)
        out, _ = await asyncio.wait_for(
            process.communicate("\n".join(lines).encode() + b"\n"), timeout=60
        )
    output = out.decode()
    assert process.returncode == 0, output
    shown, after = output.split("Still learning from 1 recent message", 1)
    assert "I keep bees" not in shown.split("bot> ", 1)[1]
    undo = " — /memory undo" if notices == "message" else ""
    assert f"(memory updated: I keep bees{undo})" in after
    assert after.count("I keep bees") == 1  # one line, not a notice besides it


async def test_the_exit_line_counts_removals_and_corrections(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeOpenAI(responder) as fake:
        _, told = await run_bot(
            fake, data, ["I live in Porto.", "Remember that I play chess."], "--user", "al"
        )
        _, forgot = await run_bot(fake, data, ["Please forget that I play chess."], "--user", "al")
        _, corrected = await run_bot(
            fake, data, ["/memory correct I moved to Madrid"], "--user", "al"
        )
    assert told.rstrip().endswith("Saved 2 new memories.")
    assert forgot.rstrip().endswith("Removed 1 memory.")
    assert corrected.rstrip().endswith("Corrected 1.")
