"""A message waiting to be learned from: recorded durably so a restart does not drop it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from memory.messages import ChatMessage

MAX_REPLY_CHARS = 600


class PendingMessage(BaseModel):
    """A message the bot answered and has not learned from yet, as stored per person until learning
    consumes it: the text, the start of the reply (at most MAX_REPLY_CHARS characters), who said it
    and where, when it was said, and the erasure token at the start of its turn (a forget all after
    that voids it)."""

    text: str
    reply: str = ""
    author: str
    message_id: str
    permalink: str | None = None
    conversation: str
    platform: str
    audience: Literal["dm", "channel"]
    # The channel's name, when the platform gave it (memory.identity.ConversationRef.name).
    conversation_name: str | None = None
    sent_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # The erasure token when the turn began: forget all after it means this is not learned.
    erasure_token: str | None = None

    @classmethod
    def from_message(
        cls, message: ChatMessage, reply: str, erasure_token: str | None = None
    ) -> PendingMessage:
        """The pending record of `message`, answered with `reply` (cut to MAX_REPLY_CHARS
        characters)."""
        return cls(
            erasure_token=erasure_token,
            text=message.text,
            reply=reply[:MAX_REPLY_CHARS],
            author=message.user.name,
            message_id=message.message_id,
            permalink=message.permalink,
            conversation=message.conversation.key,
            platform=message.conversation.platform,
            audience=message.conversation.audience,
            conversation_name=message.conversation.name,
            sent_at=message.sent_at,
        )
