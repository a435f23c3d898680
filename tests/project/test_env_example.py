"""`.env.example` and the settings class never drift: each lists exactly what the other does."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import PROVIDER_KEYS, Settings

ROOT = Path(__file__).resolve().parents[2]
# `NAME=value`, or commented out as `# NAME=value`.
VARIABLE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=")
# Read by the model provider packages themselves, not by Settings.
PROVIDER_VARIABLES = {*PROVIDER_KEYS.values(), "OPENAI_BASE_URL"}


def example_lines() -> list[str]:
    return (ROOT / ".env.example").read_text().splitlines()


def example_variables() -> dict[str, str]:
    """Each variable in .env.example -> the comment line just above it."""
    lines = example_lines()
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = VARIABLE.match(line)
        if match:
            above = lines[index - 1] if index else ""
            found[match.group(1)] = above if above.startswith("# ") else ""
    return found


def settings_variables() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def test_every_setting_is_in_the_example() -> None:
    missing = settings_variables() - set(example_variables())
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_every_example_variable_is_read() -> None:
    unknown = set(example_variables()) - settings_variables() - PROVIDER_VARIABLES
    assert not unknown, f".env.example lists {sorted(unknown)}, which nothing reads"


def test_every_variable_has_a_comment() -> None:
    uncommented = [name for name, comment in example_variables().items() if not comment]
    assert not uncommented, f"no one-line comment above {uncommented}"


def test_the_checker_sees_variables() -> None:
    # Guards against a vacuous pass: both sides must be found, and a known pair must match.
    variables = example_variables()
    assert "MODEL" in variables
    assert "DATABASE_URL" in settings_variables()
    assert len(variables) >= len(settings_variables())
