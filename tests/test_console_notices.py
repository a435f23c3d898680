"""The console shows what it learned as it happens and takes it back on /memory undo; /memory
why names the line a memory came from and the words."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI
from tests.test_console_e2e import responder, run_bot


async def test_remembered_line_undo_and_why(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeOpenAI(responder) as fake:
        code, output = await run_bot(
            fake,
            data,
            ["Remember that I keep bees.", "/memory show", "/memory undo", "/memory show"],
            "--user",
            "al",
        )
        assert code == 0, output
        assert "(remembered: I keep bees — /memory undo)" in output
        assert "Undone: I keep bees." in output
        assert output.rstrip().endswith("Nothing new to remember.")

        _, told = await run_bot(
            fake, data, ["hello", "Remember that I play chess."], "--user", "al"
        )
        fact_id = told.split("[", 1)[1].split("]", 1)[0] if "[" in told else ""
        _, shown = await run_bot(fake, data, ["/memory show facts"], "--user", "al")
        fact_id = shown.split("[", 1)[1].split("]", 1)[0]
        _, why = await run_bot(fake, data, [f"/memory why {fact_id}"], "--user", "al")
    assert f"[{fact_id}] I play chess" in why
    assert "message: line-" in why and "-2" in why.split("message: ", 1)[1].split("\n", 1)[0]
    assert "you said: “Remember that I play chess.”" in why
    assert "added" in why
