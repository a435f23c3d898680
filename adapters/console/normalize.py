"""Console lines to core types: pure functions."""

from __future__ import annotations

import unicodedata

from memory import (
    ChatMessage,
    ConversationRef,
    IdentityError,
    MemoryCommand,
    UserRef,
    conversation_key,
    parse_command,
)

# Kept as they are in a key; every other character is written as its UTF-8 bytes.
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
# A user id is at most 128 characters (memory.identity): 42 CJK characters, 128 ASCII ones.
MAX_ID_CHARS = 128


def name_id(name: str) -> str:
    """The key part for a console name: one-to-one, so distinct names are distinct people.

    The name is NFC-normalized (the same letters typed composed or decomposed are one name),
    never case-folded. Letters A-Z, a-z, digits and "-" stay; any other character becomes
    "_" and two hex digits per UTF-8 byte ("Dana.Lee" -> "Dana_2eLee"), and "_" only ever
    starts such an escape, so the encoding can be read back and never joins two names.
    """
    exact = unicodedata.normalize("NFC", name)
    return "".join(c if c in _PLAIN else "".join(f"_{b:02x}" for b in c.encode()) for c in exact)


def console_user(name: str) -> UserRef:
    """The person typing in a terminal, by the exact name they gave (see `name_id`).

    Raises IdentityError for an empty or unprintable name, or one too long for a key.
    """
    exact = unicodedata.normalize("NFC", name.strip())
    if not exact or not exact.isprintable():
        raise IdentityError("a console user needs a name, e.g. --user alice")
    user_id = name_id(exact)
    if len(user_id) > MAX_ID_CHARS:
        raise IdentityError("that console name is too long; please use a shorter one")
    return UserRef("console", user_id, display_name=exact)


def console_conversation(user: UserRef, session: str) -> ConversationRef:
    """The conversation of one `bot chat` session, `console:<user id>:<session>`, a DM.
    IdentityError when `session` is not a safe id (1-128 of A-Z a-z 0-9 _ - @ +)."""
    # A terminal chat is one person talking to the bot: a DM.
    return ConversationRef(conversation_key("console", user.id, session), "dm", "console")


def is_memory_command(line: str) -> bool:
    """Whether a console line starts with `/memory` (any case, surrounding spaces ignored).
    `/memoryx` counts too; to_memory_command then refuses it."""
    return line.strip().lower().startswith("/memory")


def to_memory_command(line: str) -> MemoryCommand:
    """The command in a `/memory ...` line; CommandError (with the usage) when
    memory.commands.verbs.parse_command does not know it."""
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
