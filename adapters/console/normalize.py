"""Console lines to core types: pure functions."""

from __future__ import annotations

import re

from memory.commands import MemoryCommand, parse_command
from memory.errors import IdentityError
from memory.identity import ConversationRef, UserRef, conversation_key
from memory.messages import ChatMessage

_NAME = re.compile(r"[^A-Za-z0-9_\-]+")


def console_user(name: str) -> UserRef:
    cleaned = _NAME.sub("-", name.strip()).strip("-").lower()[:64]
    if not cleaned:
        raise IdentityError("a console user needs a name of letters or digits, e.g. --user alice")
    return UserRef("console", cleaned, display_name=name.strip())


def console_conversation(user: UserRef, session: str) -> ConversationRef:
    # A terminal chat is one person talking to the bot: a DM.
    return ConversationRef(conversation_key("console", user.id, session), "dm", "console")


def is_memory_command(line: str) -> bool:
    return line.strip().lower().startswith("/memory")


def to_memory_command(line: str) -> MemoryCommand:
    return parse_command(line.strip()[len("/memory") :])


def to_chat_message(
    line: str, user: UserRef, conversation: ConversationRef, number: int, run: str = ""
) -> ChatMessage:
    """Line `number` of this run of `bot chat`; `run` keeps ids unique when a session is
    resumed (a stored turn is found again by its message id)."""
    message_id = f"line-{run}-{number}" if run else f"line-{number}"
    return ChatMessage(
        user=user, conversation=conversation, text=line.strip(), message_id=message_id
    )
