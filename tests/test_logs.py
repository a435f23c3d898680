"""Logs: JSON or text with context fields, and secrets masked in messages and tracebacks."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure_logging

TOKEN = "xoxb-123-456-verysecret"
DISCORD = "MTAxMjM0NTY3ODkw.discord.secret"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_json_logs_carry_context_and_hide_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [DISCORD], style="json")
    log = logging.getLogger("bot.test")
    log.info("posting with %s", TOKEN, extra={"user": "slack:T1:U1", "conversation": "c1"})
    try:
        raise RuntimeError(f"GET /webhooks/1/{'a' * 30} failed with {DISCORD}")
    except RuntimeError:
        log.exception("call failed", extra={"user": "discord:5"})

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [entry["level"] for entry in lines] == ["INFO", "ERROR"]
    assert lines[0]["user"] == "slack:T1:U1" and lines[0]["conversation"] == "c1"
    assert lines[0]["message"] == "posting with [secret]"
    text = json.dumps(lines)
    assert TOKEN not in text and DISCORD not in text and "a" * 30 not in text
    assert "RuntimeError" in lines[1]["exception"]


def test_text_logs_append_context(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [], style="text")
    logging.getLogger("bot.test").warning("summary failed", extra={"conversation": "c9"})
    line = capsys.readouterr().err.strip()
    assert line.endswith("summary failed [conversation=c9]")


def test_text_logs_keep_outside_text_on_its_own_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [], style="text")
    forged = "2026-11-29 23:59:59,000 ERROR memory.engine: forged"
    log = logging.getLogger("bot.test")
    log.warning("got %s", f"hi\n{forged}", extra={"user": f"u\n{forged}"})
    try:
        raise ValueError(f"bad\n{forged}")
    except ValueError:
        log.exception("failed")

    lines = capsys.readouterr().err.splitlines()
    assert not [line for line in lines if line.startswith("2026-11-29 23:59:59")]
    assert "got hi\\n2026-11-29" in lines[0]
    assert lines[1].endswith("failed") and all(line.startswith("  | ") for line in lines[2:])
