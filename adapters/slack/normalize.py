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
from memory import ChatMessage, MemoryCommand, PriorTurn, parse_command

# Message subtypes that are still a person speaking (`me_message` is `/me waves`); every other
# subtype (edits, deletions, joins, topic changes, bot_message, ...) is not something to answer
# or learn from. Source: https://docs.slack.dev/reference/events/message#subtypes
HUMAN_SUBTYPES = frozenset({"thread_broadcast", "file_share", "me_message"})

_MARKUP = re.compile(r"<([^<>\n]+)>")
_USER_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def str_field(event: Mapping[str, Any], name: str) -> str | None:
    """A string field of a payload; a value of any other type (a list, a number) counts as
    absent, so odd payloads are refused like incomplete ones instead of raising."""
    value = event.get(name) if isinstance(event, Mapping) else None
    return value if isinstance(value, str) else None


def is_human_message(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """A message a person wrote (not a bot, not the bot itself, not an edit or deletion)."""
    if not isinstance(event, Mapping):
        return False
    subtype = event.get("subtype")
    if subtype is not None and str_field(event, "subtype") not in HUMAN_SUBTYPES:
        return False
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    return not (bot_user_id and event.get("user") == bot_user_id)


def mentions(text: str) -> list[str]:
    """User ids mentioned as `<@U…>`, in order, without repeats."""
    return list(dict.fromkeys(_USER_MENTION.findall(text if isinstance(text, str) else "")))


def mentions_bot(text: str, bot_user_id: str | None) -> bool:
    """Whether `text` mentions the bot as `<@BOTID>` (Slack's mention markup,
    https://api.slack.com/reference/surfaces/formatting#mentioning-users); False when the
    bot's user id is unknown."""
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

    plain_text = _MARKUP.sub(plain, text if isinstance(text, str) else "")
    plain_text = plain_text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]{2,}", " ", plain_text).strip()


def escape(text: str) -> str:
    """Plain text to Slack text: no accidental @channel pings or links from a model's output.

    Escapes exactly the three characters Slack asks apps to: & < > (as &amp; &lt; &gt;;
    https://api.slack.com/reference/surfaces/formatting#escaping).
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def display_name(user: Mapping[str, Any]) -> str | None:
    """The name people see for a users.info `user` object
    (https://api.slack.com/methods/users.info): the profile's display name, else the real
    name, else the handle; None when all are blank."""
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
    """Where the bot answers a channel message: its thread's ts, or its own ts (a new thread
    under it). KeyError when the event has neither `thread_ts` nor `ts`."""
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

    Raises IdentityError when the author or workspace is missing or unusable: never a shared
    default. Nothing else escapes, whatever the payload's values are.
    """
    if not is_human_message(event, bot_user_id):
        return None
    text = clean_text(str_field(event, "text") or "", names, bot_user_id)
    if not text:
        return None
    user_id = str_field(event, "user")
    user = slack_user(user_id, team_id, enterprise_id, names.get(str(user_id)))
    channel = str_field(event, "channel") or ""
    ts = str_field(event, "ts") or ""
    thread_ts = str_field(event, "thread_ts")
    if is_dm_channel(channel, str_field(event, "channel_type")):
        conversation = dm_conversation(team_id, channel)
    else:
        conversation = thread_conversation(team_id, channel, thread_ts or ts)
    return ChatMessage(
        user=user,
        conversation=conversation,
        text=text,
        message_id=MessageRef(channel, ts).message_id,
        permalink=permalink(workspace_url, channel, ts, thread_ts),
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
    """Earlier messages of a thread (conversations.replies) as turns, in the given order
    (conversations.replies lists oldest first): only those strictly before `before_ts`
    with text left after clean_text. The bot's own are authored "assistant"."""
    turns: list[PriorTurn] = []
    for message in messages:
        ts = str_field(message, "ts")
        if not ts or _ts_key(ts) >= _ts_key(before_ts):
            continue
        text = clean_text(str_field(message, "text") or "", names, bot_user_id)
        if not text:
            continue
        author_id = str_field(message, "user") or ""
        if bot_user_id and author_id == bot_user_id:
            author = "assistant"
        elif message.get("bot_id") and not author_id:
            author = str_field(message, "username") or "a bot"
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
    """When a message was sent; now for a ts that is no time (`x`, `1e400`, `10**17` seconds,
    which is past datetime's year 9999 and makes the platform's clock call fail)."""
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.now(UTC)
