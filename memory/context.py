"""The run-scoped context of one turn: the message being answered. Never filled from a default."""

from __future__ import annotations

from dataclasses import dataclass

from memory.identity import ConversationRef, UserRef
from memory.messages import ChatMessage


@dataclass(frozen=True)
class TurnContext:
    message: ChatMessage

    @property
    def user(self) -> UserRef:
        return self.message.user

    @property
    def conversation(self) -> ConversationRef:
        return self.message.conversation
