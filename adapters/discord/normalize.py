"""Discord messages to core types, and replies to Discord-sized pieces: pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from adapters.split import split_text
from memory import ChatMessage, ConversationRef, UserRef, conversation_key

if TYPE_CHECKING:
    import discord

PLATFORM = "discord"
MESSAGE_LIMIT = 2000

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_CHANNEL_MENTION = re.compile(r"<#(\d+)>")
_SPACES = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True)
class IncomingMessage:
    """The fields of a Discord message that decide whether and how the bot answers it."""

    message_id: int
    channel_id: int
    guild_id: int | None  # None in a DM
    author_id: int
    author_name: str
    content: str
    author_is_bot: bool = False
    is_system: bool = False
    user_mentions: dict[int, str] = field(default_factory=dict)  # id -> display name
    role_mentions: dict[int, str] = field(default_factory=dict)
    # Roles among role_mentions that Discord manages for a bot (role.tags.bot_id): role -> bot.
    # Discord's autocomplete offers a bot's managed role next to the bot itself, and people pick it.
    bot_roles: dict[int, int] = field(default_factory=dict)
    channel_mentions: dict[int, str] = field(default_factory=dict)
    replied_to_author_id: int | None = None  # author of the message this one replies to
    permalink: str | None = None
    sent_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    channel_name: str | None = None  # a server channel's or thread's name; None in a DM


def from_message(message: discord.Message) -> IncomingMessage:
    """Read what the adapter needs from a discord.py Message (no network)."""
    replied_to: int | None = None
    if message.reference is not None:
        resolved = message.reference.resolved or message.reference.cached_message
        author = getattr(resolved, "author", None)  # a DeletedReferencedMessage has none
        replied_to = author.id if author is not None else None
    return IncomingMessage(
        message_id=message.id,
        channel_id=message.channel.id,
        guild_id=message.guild.id if message.guild is not None else None,
        author_id=message.author.id,
        author_name=message.author.display_name,
        content=message.content,
        author_is_bot=message.author.bot,
        is_system=message.is_system(),
        user_mentions={m.id: m.display_name for m in message.mentions},
        role_mentions={r.id: r.name for r in message.role_mentions},
        bot_roles={
            r.id: r.tags.bot_id
            for r in message.role_mentions
            if r.tags is not None and r.tags.bot_id is not None
        },
        channel_mentions={c.id: getattr(c, "name", str(c.id)) for c in message.channel_mentions},
        replied_to_author_id=replied_to,
        permalink=message.jump_url,
        sent_at=message.created_at,
        channel_name=getattr(message.channel, "name", None),
    )


def user_ref(user_id: int, display_name: str | None = None) -> UserRef:
    """A Discord user id is global: the same key in every server and DM."""
    return UserRef(PLATFORM, str(user_id), display_name=display_name)


def conversation_ref(
    guild_id: int | None, channel_id: int, name: str | None = None
) -> ConversationRef:
    """A DM channel, a server channel, or a thread (a thread is a channel with its own id);
    `name` is a server channel's name, when known."""
    if guild_id is None:
        return ConversationRef(conversation_key(PLATFORM, "dm", str(channel_id)), "dm", PLATFORM)
    key = conversation_key(PLATFORM, str(guild_id), str(channel_id))
    return ConversationRef(key, "channel", PLATFORM, name=name)


def message_key(channel_id: int, message_id: int) -> str:
    """The ChatMessage id: enough to find the message again (for the learned reaction)."""
    return f"{channel_id}/{message_id}"


def parse_message_key(key: str) -> tuple[int, int] | None:
    """The (channel id, message id) of a message key made by `message_key`, or None when the key is
    not one (another platform's, or malformed)."""
    channel, sep, message = key.partition("/")
    if not sep or not channel.isdigit() or not message.isdigit():
        return None
    return int(channel), int(message)


def is_addressed_to_bot(message: IncomingMessage, bot_id: int) -> bool:
    """A DM, a mention of the bot or of its managed role, or a reply to one of its messages."""
    if message.guild_id is None:
        return True
    return (
        bot_id in message.user_mentions
        or bot_id in message.bot_roles.values()
        or message.replied_to_author_id == bot_id
    )


def clean_text(message: IncomingMessage, bot_id: int) -> str:
    """Drop the bot's own mention; turn other mentions into readable names."""

    def user(match: re.Match[str]) -> str:
        user_id = int(match.group(1))
        if user_id == bot_id:
            return ""
        return "@" + message.user_mentions.get(user_id, "someone")

    def role(match: re.Match[str]) -> str:
        role_id = int(match.group(1))
        if message.bot_roles.get(role_id) == bot_id:
            return ""
        return "@" + message.role_mentions.get(role_id, "role")

    text = _USER_MENTION.sub(user, message.content)
    text = _ROLE_MENTION.sub(role, text)
    text = _CHANNEL_MENTION.sub(
        lambda m: "#" + message.channel_mentions.get(int(m.group(1)), "channel"), text
    )
    return _SPACES.sub(" ", text).strip()


def to_chat_message(message: IncomingMessage, bot_id: int) -> ChatMessage | None:
    """The ChatMessage for the core, or None when the bot should stay quiet."""
    if message.author_is_bot or message.is_system or message.author_id == bot_id:
        return None
    if not is_addressed_to_bot(message, bot_id):
        return None
    text = clean_text(message, bot_id)
    if not text:
        return None
    return ChatMessage(
        user=user_ref(message.author_id, message.author_name),
        conversation=conversation_ref(message.guild_id, message.channel_id, message.channel_name),
        text=text,
        message_id=message_key(message.channel_id, message.message_id),
        permalink=message.permalink,
        sent_at=message.sent_at,
    )


def split_reply(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """An answer as messages of at most `limit` characters (Discord's 2,000, counted in
    characters: https://discord.com/developers/docs/resources/message#create-message),
    cut at paragraphs, lines, sentences or words, code fences closed and reopened."""
    return split_text(text, limit)
