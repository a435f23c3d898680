"""Slack event payloads to core types: pure functions, no I/O (the caller looks names up)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from adapters.slack.ids import (
    MessageRef,
    dm_conversation,
    is_dm_channel,
    permalink,
    slack_user,
    thread_conversation,
)
from memory.commands import MemoryCommand, parse_command
from memory.messages import ChatMessage, PriorTurn

# Message subtypes that are still a person speaking; every other subtype (edits, deletions,
# joins, bot_message, ...) is not something to answer or learn from.
HUMAN_SUBTYPES = frozenset({"thread_broadcast", "file_share"})

_MARKUP = re.compile(r"<([^<>\n]+)>")
_USER_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def is_human_message(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """A message a person wrote (not a bot, not the bot itself, not an edit or deletion)."""
    subtype = event.get("subtype")
    if subtype is not None and subtype not in HUMAN_SUBTYPES:
        return False
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    return not (bot_user_id and event.get("user") == bot_user_id)


def mentions(text: str) -> list[str]:
    """User ids mentioned as `<@U…>`, in order, without repeats."""
    return list(dict.fromkeys(_USER_MENTION.findall(text or "")))


def mentions_bot(text: str, bot_user_id: str | None) -> bool:
    return bool(bot_user_id) and bot_user_id in mentions(text)


def clean_text(text: str, names: Mapping[str, str], bot_user_id: str | None = None) -> str:
    """Slack mrkdwn to plain text: the bot's mention removed, people's mentions as names."""

    def plain(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            user_id = target[1:]
            if user_id == bot_user_id:
                return ""
            return "@" + (names.get(user_id) or label or user_id)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            command = target[1:].split("^", 1)[0]
            if command in ("here", "channel", "everyone"):
                return "@" + command
            return label or ""
        if label and label != target.removeprefix("mailto:"):
            return f"{label} ({target})"
        return target.removeprefix("mailto:")

    plain_text = _MARKUP.sub(plain, text or "")
    plain_text = plain_text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]{2,}", " ", plain_text).strip()


def escape(text: str) -> str:
    """Plain text to Slack text: no accidental @channel pings or links from a model's output."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def display_name(user: Mapping[str, Any]) -> str | None:
    """The name people see for a users.info `user` object."""
    profile = user.get("profile") or {}
    for candidate in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return None


def reply_thread_ts(event: Mapping[str, Any]) -> str:
    """Where the bot answers a channel message: its thread, or a new thread under it."""
    return str(event.get("thread_ts") or event["ts"])


def to_chat_message(
    event: Mapping[str, Any],
    *,
    team_id: str | None,
    enterprise_id: str | None,
    bot_user_id: str | None,
    names: Mapping[str, str],
    workspace_url: str | None = None,
    prior_turns: Iterable[PriorTurn] = (),
) -> ChatMessage | None:
    """An app_mention or message event as a ChatMessage; None when it is not for the bot to answer.

    Raises IdentityError when the author or workspace is missing: never a shared default.
    """
    if not is_human_message(event, bot_user_id):
        return None
    text = clean_text(str(event.get("text") or ""), names, bot_user_id)
    if not text:
        return None
    user_id = event.get("user")
    user = slack_user(user_id, team_id, enterprise_id, names.get(str(user_id)))
    channel = str(event.get("channel") or "")
    ts = str(event.get("ts") or "")
    if is_dm_channel(channel, event.get("channel_type")):
        conversation = dm_conversation(team_id, channel)
    else:
        conversation = thread_conversation(team_id, channel, event.get("thread_ts") or ts)
    return ChatMessage(
        user=user,
        conversation=conversation,
        text=text,
        message_id=MessageRef(channel, ts).message_id,
        permalink=permalink(workspace_url, channel, ts, event.get("thread_ts")),
        sent_at=_sent_at(ts),
        prior_turns=tuple(prior_turns),
    )


def to_prior_turns(
    messages: Iterable[Mapping[str, Any]],
    *,
    before_ts: str,
    bot_user_id: str | None,
    names: Mapping[str, str],
) -> list[PriorTurn]:
    """Earlier messages of a thread (conversations.replies) as turns, oldest first."""
    turns: list[PriorTurn] = []
    for message in messages:
        ts = str(message.get("ts") or "")
        if not ts or _ts_key(ts) >= _ts_key(before_ts):
            continue
        text = clean_text(str(message.get("text") or ""), names, bot_user_id)
        if not text:
            continue
        author_id = str(message.get("user") or "")
        if bot_user_id and author_id == bot_user_id:
            author = "assistant"
        elif message.get("bot_id") and not author_id:
            author = str(message.get("username") or "a bot")
        else:
            author = names.get(author_id) or author_id or "someone"
        turns.append(PriorTurn(author=author, text=text))
    return turns


def to_memory_command(text: str | None) -> MemoryCommand:
    """The text after `/memory` as a command; raises CommandError with the usage when unclear."""
    return parse_command(clean_text(text or "", {}))


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    try:
        return int(seconds), int(micros or 0)
    except ValueError:
        return 0, 0


def _sent_at(ts: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (ValueError, OverflowError, OSError):  # not a number, or out of the platform's range
        return datetime.now(UTC)
