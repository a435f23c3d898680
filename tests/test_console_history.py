"""History that is right, seen from `bot chat`: each change names its own line, a profile change
shows what it was and what it became, and export carries the history."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI
from tests.memory.scan import places_on_disk
from tests.test_console_e2e import responder, run_bot


def _history_lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if re.match(r"\s+\d{4}-\d\d-\d\d ", line)]


async def test_history_names_the_line_each_change_came_from(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeOpenAI(responder) as fake:
        lines = ["Remember that I keep bees.", "Remember that I play chess.", "hello"]
        code, first = await run_bot(fake, data, lines, "--user", "al")
        assert code == 0, first
        code, second = await run_bot(fake, data, ["/memory history"], "--user", "al")
        assert code == 0, second

    by_text = {}
    for line in _history_lines(second):
        cause = re.search(r"\((line-\w+-\d+)\)$", line)
        assert cause, line
        by_text[line.split("] ", 1)[1].rsplit(" (", 1)[0]] = cause.group(1)
    assert by_text["I keep bees"].endswith("-1")
    assert by_text["I play chess"].endswith("-2")


async def test_a_profile_change_shows_old_and_new_and_export_has_the_history(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    async with FakeOpenAI(responder) as fake:
        await run_bot(fake, data, ["My name is Al. Btw i live in Porto."], "--user", "al")
        await run_bot(fake, data, ["Btw i moved to Lisbon."], "--user", "al")
        code, output = await run_bot(
            fake, data, ["/memory history", "/memory export"], "--user", "al"
        )
    assert code == 0, output
    history = _history_lines(output)
    assert any("changed [location] location: Porto -> Lisbon" in line for line in history)
    # One entry per field, not the whole profile again for each change.
    assert not any("name: Al" in line for line in history if "[location]" in line)
    exported = json.loads(output[output.index("{") : output.rindex("}") + 1])
    assert [e["text"] for e in exported["history"] if e["item_id"] == "location"] == [
        "location: Porto",
        "location: Porto -> Lisbon",
    ]


async def test_forgetting_words_learned_again_leaves_them_in_no_history(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeOpenAI(responder) as fake:
        told = ["Remember that I keep Quaggabees.", "/memory undo"]
        code, first = await run_bot(fake, data, told, "--user", "al")
        assert code == 0 and "Undone: forgot I keep Quaggabees" in first, first
        again = ["Remember that I keep Quaggabees.", "/memory show"]
        code, shown = await run_bot(fake, data, again, "--user", "al")
        assert code == 0, shown
        [item_id] = re.findall(r"\[(\w+)\] I keep Quaggabees", shown)
        code, output = await run_bot(
            fake, data, [f"/memory forget {item_id}", "/memory history"], "--user", "al"
        )

    assert code == 0, output
    # The first id's entries held the same words: they go too, and nothing on disk keeps them.
    assert not [line for line in _history_lines(output) if "Quaggabees" in line]
    assert places_on_disk(data, "Quaggabees") == []
