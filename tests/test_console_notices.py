"""The console shows what it learned as it happens and takes it back on /memory undo; /memory
why names the line a memory came from and the words."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI
from tests.processes import bot_env, start_bot
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
        assert "Undone: forgot I keep bees." in output
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


async def test_memory_notices_off_prints_no_notice_in_the_console(tmp_path: Path) -> None:
    data = tmp_path / "data"
    lines = ["Remember that I keep bees.", "/memory show facts"]
    async with FakeOpenAI(responder) as fake:
        env = bot_env(fake.base_url, data, MEMORY_NOTICES="off")
        process = await start_bot("chat", "--user", "al", env=env, cwd=tmp_path)
        out, _ = await asyncio.wait_for(
            process.communicate("\n".join(lines).encode() + b"\n"), timeout=60
        )
    output = out.decode()
    assert process.returncode == 0, output
    assert "I keep bees" in output  # learned, and shown when asked
    assert "(remembered:" not in output and "/memory undo)" not in output


def _normal(line: str) -> str:
    """A transcript line without what differs from run to run: times, ids, session ids."""
    line = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "TIME", line.rstrip())
    line = re.sub(r"line-[0-9a-f]+-", "line-S-", line)
    return re.sub(r"\[[a-z0-9]{5}\]", "[ID]", line)


async def test_the_readme_transcript_is_what_the_console_prints(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Watching it learn", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    said = [line[5:] for line in block.splitlines() if line.startswith("you> ")]
    *told, why = said
    assert why.startswith("/memory why ")
    data = tmp_path / "data"
    async with FakeOpenAI(responder) as fake:
        code, first = await run_bot(fake, data, told, "--user", "al")
        assert code == 0, first
        item_id = re.findall(r"\[([a-z0-9]{5})\] I play chess", first)[-1]
        code, second = await run_bot(fake, data, [f"/memory why {item_id}"], "--user", "al")
        assert code == 0, second

    printed = [_normal(line) for line in (first + second).splitlines()]
    expected = [
        _normal(line) for line in block.splitlines() if not line.startswith(("you> ", "bot> "))
    ]
    at = 0
    for line in expected:  # every line the README shows, in the order it shows them
        assert line in printed[at:], f"{line!r} not printed after {printed[at - 1 : at]}"
        at = printed.index(line, at) + 1


async def test_undo_right_after_telling_takes_back_that_message(tmp_path: Path) -> None:
    lines = ["Remember that I keep bees.", "Remember that I play chess.", "/memory undo"]
    async with FakeOpenAI(responder) as fake:
        code, output = await run_bot(fake, tmp_path / "data", lines, "--user", "al")
        assert code == 0, output
        # Both lines are learned (one round) before the undo: it takes back that round.
        assert "Undone: forgot I keep bees; forgot I play chess." in output
        _, shown = await run_bot(fake, tmp_path / "data", ["/memory show facts"], "--user", "al")
    assert "I keep bees" not in shown and "I play chess" not in shown
