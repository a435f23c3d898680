"""Discord message deletes and edits (raw gateway events) as core change events.

Raw events are used because they arrive whether or not the message is in discord.py's
cache (a restart empties it): `on_raw_message_delete`, `on_raw_bulk_message_delete`,
`on_raw_message_edit` (https://discordpy.readthedocs.io/en/stable/api.html#discord.on_raw_message_edit).
"""

from __future__ import annotations

from collections.abc import Iterable

from adapters.discord.normalize import (
    IncomingMessage,
    clean_text,
    conversation_ref,
    message_key,
    user_ref,
)
from memory import MessageDeleted, MessageEdited


def to_deleted(
    guild_id: int | None,
    channel_id: int,
    message_ids: Iterable[int],
    author_id: int | None = None,
) -> MessageDeleted:
    """One or many deleted messages of one channel; `author_id` when discord.py had the
    message cached (a restart empties the cache)."""
    keys = tuple(message_key(channel_id, m) for m in sorted(set(message_ids)))
    author = user_ref(author_id) if author_id is not None else None
    return MessageDeleted(conversation_ref(guild_id, channel_id), keys, author=author)


def to_edited(
    message: IncomingMessage, bot_id: int, *, edited: bool
) -> MessageEdited | MessageDeleted | None:
    """A person's edited message; None for bots, system messages and updates that are not
    edits (embeds resolving, pins); an edit that leaves no text is a deletion."""
    if not edited or message.author_is_bot or message.is_system or message.author_id == bot_id:
        return None
    where = conversation_ref(message.guild_id, message.channel_id)
    key = message_key(message.channel_id, message.message_id)
    text = clean_text(message, bot_id)
    if not text:
        return MessageDeleted(where, (key,))
    return MessageEdited(where, key, text)
