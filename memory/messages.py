"""Messages as the core sees them, after an adapter has normalized a platform payload."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from memory.errors import IdentityError
from memory.identity import ConversationRef, UserRef

MAX_MESSAGE_CHARS = 8000


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PriorTurn:
    """A message said before the bot joined (for example earlier replies in a Slack thread)."""

    author: str
    text: str


@dataclass(frozen=True)
class ChatMessage:
    """One human message addressed to the bot.

    `text` is plain text (platform markup already resolved by the adapter); the engine
    refuses more than MAX_MESSAGE_CHARS (8000) characters. `message_id` is the platform's
    id for the message (Slack: `channel/ts`), unique within the conversation. `sent_at` is
    when the platform says it was sent (timezone-aware; now when unknown). `prior_turns`
    are earlier messages of the thread, oldest first; they seed a conversation whose state
    is still empty and are ignored otherwise.
    """

    user: UserRef
    conversation: ConversationRef
    text: str
    message_id: str
    permalink: str | None = None
    sent_at: datetime = field(default_factory=_now)
    prior_turns: tuple[PriorTurn, ...] = ()


@dataclass(frozen=True)
class Reply:
    """The bot's answer to one ChatMessage.

    `in_reply_to` is that message's `message_id`; `failed` is True when `text` is an
    apology or a refusal (a message too long, a model or storage failure), not the model's
    answer.
    """

    text: str
    conversation: ConversationRef
    in_reply_to: str
    failed: bool = False


@dataclass(frozen=True)
class MessageDeleted:
    """Messages deleted on the platform: forgotten from pending learning and the conversation."""

    conversation: ConversationRef
    message_ids: tuple[str, ...]
    # Who sent them, when the platform says (Slack does; Discord only for cached messages):
    # then a reply to them still in flight in any process drops them too.
    author: UserRef | None = None


@dataclass(frozen=True)
class MessageEdited:
    """A message edited on the platform: its new text replaces the stored and pending one."""

    conversation: ConversationRef
    message_id: str
    text: str


def change_payload(change: MessageDeleted | MessageEdited) -> dict[str, Any]:
    """A platform change as a JSON-able dict, for the inbox to keep until it is applied:
    {"kind": "deleted", "conversation": {...}, "message_ids": [...], "author": {...} | None}
    or {"kind": "edited", "conversation": {...}, "message_id": str, "text": str}."""
    where = asdict(change.conversation)
    if where.get("name") is None:
        where.pop("name", None)  # as versions before conversation names wrote it
    if isinstance(change, MessageDeleted):
        author = asdict(change.author) if change.author is not None else None
        ids = list(change.message_ids)
        return {"kind": "deleted", "conversation": where, "message_ids": ids, "author": author}
    return {
        "kind": "edited",
        "conversation": where,
        "message_id": change.message_id,
        "text": change.text,
    }


def change_from_payload(payload: Mapping[str, Any] | None) -> MessageDeleted | MessageEdited | None:
    """The change `change_payload` made `payload` from; None for anything else."""
    try:
        where = ConversationRef(**dict((payload or {})["conversation"]))
        if payload and payload.get("kind") == "deleted":
            author = payload.get("author")
            ids = tuple(str(i) for i in payload["message_ids"])
            return MessageDeleted(where, ids, UserRef(**author) if author else None)
        if payload and payload.get("kind") == "edited":
            return MessageEdited(where, str(payload["message_id"]), str(payload["text"]))
    except (KeyError, TypeError, ValueError, IdentityError):
        return None
    return None
