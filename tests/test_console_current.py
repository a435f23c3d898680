"""A console session sees what it was just told: show right after telling lists it (no wait for
the quiet period), and the exit line says what was saved."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI
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
