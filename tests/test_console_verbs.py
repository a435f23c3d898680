"""Every /memory verb (memory.commands.verbs.VERBS) is answered in the terminal chat."""

from __future__ import annotations

from pathlib import Path

from memory.commands.verbs import USAGE, VERBS
from tests.command_samples import sample_text
from tests.fakes.openai_server import FakeOpenAI
from tests.test_console_e2e import responder, run_bot


async def test_every_memory_verb_is_answered(tmp_path: Path) -> None:
    lines = [f"/memory {sample_text(verb)}" for verb in VERBS]
    async with FakeOpenAI(responder) as fake:
        code, output = await run_bot(fake, tmp_path / "data", lines, "--user", "al")

    assert code == 0, output
    assert "I don't know" not in output
    assert "Usage:\n" + USAGE in output  # `/memory help`
    assert "Send `/memory forget all confirm` to go ahead." in output
    assert "Learning paused" in output and "Learning resumed." in output
