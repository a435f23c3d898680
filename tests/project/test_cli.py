"""`bot --version` and `bot --help` / `bot run --help`, through the installed entry point."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOT = Path(sys.executable).parent / "bot"


def run_bot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BOT), *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_version_is_the_package_version() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    done = run_bot("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"bot {declared}"


@pytest.mark.parametrize("args", [("--help",), ("run", "--help"), ("chat", "--help")])
def test_help_lists_the_commands_and_points_to_the_configuration(args: tuple[str, ...]) -> None:
    done = run_bot(*args)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # argparse wraps lines
    assert "run" in text and "chat" in text
    assert ".env.example" in text
    assert "'Configuration' table of README.md" in text
