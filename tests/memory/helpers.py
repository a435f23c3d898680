"""Building messages for engine tests."""

from __future__ import annotations

import itertools

from memory.identity import ConversationRef, UserRef
from memory.messages import ChatMessage

_ids = itertools.count(1)


def dm(user: UserRef, session: str = "s1") -> ConversationRef:
    return ConversationRef(f"test:dm:{user.id}:{session}", "dm", "test")


def channel(name: str = "general") -> ConversationRef:
    return ConversationRef(f"test:channel:{name}", "channel", "test")


def say(user: UserRef, where: ConversationRef, text: str) -> ChatMessage:
    return ChatMessage(user=user, conversation=where, text=text, message_id=f"m{next(_ids)}")


def person(name: str) -> UserRef:
    return UserRef("test", name, display_name=name.capitalize())
