"""The run context: a run without the turn gets an error that says what to pass."""

from __future__ import annotations

import pytest

from memory.agent.context import TurnContext
from memory.errors import IdentityError


def test_a_run_without_context_is_told_what_to_pass() -> None:
    with pytest.raises(IdentityError, match="needs the turn in the run context"):
        TurnContext()  # what LangGraph builds from a run with no context


def test_a_run_context_in_json_form_is_validated() -> None:
    context = TurnContext(
        {  # type: ignore[arg-type]
            "user": {"platform": "studio", "id": "alice"},
            "conversation": {"key": "studio:alice", "audience": "dm", "platform": "studio"},
            "text": "hi",
            "message_id": "m1",
        }
    )
    assert context.user.key == "studio:alice"
    with pytest.raises(IdentityError):
        TurnContext({"user": {"platform": "studio", "id": "a b"}})  # type: ignore[arg-type]
