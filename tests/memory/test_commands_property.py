"""The /memory parser over 10,000 generated inputs: it accepts or refuses clearly, never crashes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory.commands.verbs import ITEM_ID, MemoryCommand, parse_command
from memory.errors import CommandError

VERBS = [
    "show",
    "forget",
    "forget-all",
    "correct",
    "export",
    "pause",
    "resume",
    "help",
    "history",
    "list",
    "fix",
    "delete",
    "all",
    "confirm",
    "profile",
    "facts",
    "todos",
]

words = st.one_of(st.sampled_from(VERBS), st.text(max_size=30))
commands = st.one_of(
    st.text(max_size=3000),
    st.lists(words, max_size=6).map(" ".join),
    st.lists(words, max_size=4).map(lambda ws: "/memory " + " ".join(ws)),
)


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands)
def test_every_input_parses_or_is_refused_with_a_message(text: str) -> None:
    try:
        command = parse_command(text)
    except CommandError as refused:
        assert refused.message.strip()
        assert len(refused.message) < 2000  # an echo of a huge input stays clipped
        return
    assert isinstance(command, MemoryCommand)
    if command.action == "forget":
        assert command.item_id is not None and ITEM_ID.match(command.item_id)
    if command.action == "correct":
        assert command.text and command.text.strip()
