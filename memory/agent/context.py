"""The run-scoped context of one turn: the message being answered. Never filled from a default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from memory.errors import IdentityError
from memory.identity import ConversationRef, UserRef
from memory.messages import ChatMessage

# Under LangGraph Server the context arrives as JSON: {"message": {"user": {...}, ...}}.
_MESSAGE = TypeAdapter(ChatMessage)


@dataclass(frozen=True)
class TurnContext:
    """`message` is a ChatMessage, or its JSON form (as LangGraph Server passes a run's
    context); the JSON form is validated, ids included.

    Raises IdentityError when `message` is missing or an id in it is unsafe
    (memory.identity), and pydantic's ValidationError when the JSON form lacks a field or
    has one of the wrong type.
    """

    # A default only so that a run without context gets the error below, not a TypeError.
    message: ChatMessage = None  # type: ignore[assignment]
    # The person the author's account resolves to (memory.accounts.people); under LangGraph Server,
    # where nobody resolves it, the account key stands for the person.
    person: str | None = None

    def __post_init__(self) -> None:
        raw: Any = self.message
        if raw is None:
            raise IdentityError(
                'this graph needs the turn in the run context: {"message": {"user": {...}, '
                '"conversation": {...}, "text": ..., "message_id": ...}} (see README, '
                '"Open the agent in LangGraph Studio")'
            )
        if isinstance(raw, dict):
            object.__setattr__(self, "message", _MESSAGE.validate_python(raw))

    @property
    def user(self) -> UserRef:
        """The author's platform account (`message.user`), not the person it resolves to."""
        return self.message.user

    @property
    def person_key(self) -> str:
        """Whose memory this turn reads and writes."""
        return self.person or self.message.user.key

    @property
    def conversation(self) -> ConversationRef:
        """Where the message was said; its `audience` decides which memories are shown."""
        return self.message.conversation
