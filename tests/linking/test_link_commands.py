"""The link verbs as typed in every adapter (the console passes the line to parse_command)."""

from __future__ import annotations

import pytest

from adapters.console.normalize import to_memory_command
from memory.commands.verbs import MemoryCommand, parse_command
from memory.errors import CommandError


def test_link_and_unlink_parse_as_typed() -> None:
    assert to_memory_command("/memory link") == MemoryCommand("link")
    assert to_memory_command("/memory link K3X9P2AB ") == MemoryCommand("link", text="k3x9p2ab")
    assert parse_command("unlink Discord") == MemoryCommand("unlink", text="discord")


@pytest.mark.parametrize("typed", ["link not a code!", "unlink", "unlink teams"])
def test_malformed_link_commands_are_refused_clearly(typed: str) -> None:
    with pytest.raises(CommandError, match=r"(?i)nothing was changed|unlink"):
        parse_command(typed)
