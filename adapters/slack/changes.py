"""Slack edits and deletions (`message_changed`, `message_deleted`) as core change events.

Slack sends both as `message` events with a subtype: a deletion names the message in
`deleted_ts` and `previous_message`; an edit carries the new message in `message`. A deleted
thread parent that had replies becomes a `tombstone` edit. Payload shapes:
https://api.slack.com/events/message/message_deleted and .../message_changed
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.slack.ids import (
    MessageRef,
    dm_conversation,
    is_dm_channel,
    slack_user,
    thread_conversation,
)
from adapters.slack.normalize import clean_text
from memory import ConversationRef, IdentityError, MessageDeleted, MessageEdited

DELETED = "message_deleted"
CHANGED = "message_changed"
CHANGE_SUBTYPES = frozenset({DELETED, CHANGED})


def edited_text(event: Mapping[str, Any]) -> str:
    """The raw text of an edit (for looking up the names it mentions), or ""."""
    message = event.get("message")
    return str(message.get("text") or "") if isinstance(message, Mapping) else ""


def to_message_change(
    event: Mapping[str, Any],
    *,
    team_id: str | None,
    bot_user_id: str | None,
    names: Mapping[str, str],
    enterprise_id: str | None = None,
) -> MessageDeleted | MessageEdited | None:
    """The change a `message_deleted` / `message_changed` event makes; None for other events
    and for edits the bot has no reason to follow (its own or another bot's messages).

    Raises IdentityError when the channel, workspace or timestamp is missing.
    """
    subtype = event.get("subtype")
    channel = event.get("channel")
    if subtype == DELETED:
        previous = _mapping(event.get("previous_message"))
        ts = str(event.get("deleted_ts") or previous.get("ts") or "")
        where = _conversation(event, team_id, channel, previous.get("thread_ts") or ts)
        author = previous.get("user")
        person = (
            slack_user(author, team_id, enterprise_id)
            if isinstance(author, str) and author and author != bot_user_id
            else None
        )
        return MessageDeleted(where, (_message_id(channel, ts),), author=person)
    if subtype != CHANGED:
        return None
    message = _mapping(event.get("message"))
    if message.get("bot_id") or (bot_user_id and message.get("user") == bot_user_id):
        return None
    ts = str(message.get("ts") or "")
    where = _conversation(event, team_id, channel, message.get("thread_ts") or ts)
    if message.get("subtype") == "tombstone":
        return MessageDeleted(where, (_message_id(channel, ts),))
    text = clean_text(str(message.get("text") or ""), names, bot_user_id)
    if not text:
        return MessageDeleted(where, (_message_id(channel, ts),))
    return MessageEdited(where, _message_id(channel, ts), text)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _message_id(channel: Any, ts: str) -> str:
    if not isinstance(channel, str) or not channel or not ts:
        raise IdentityError("a Slack message change without a channel or ts")
    return MessageRef(channel, ts).message_id


def _conversation(
    event: Mapping[str, Any], team_id: str | None, channel: Any, thread_ts: Any
) -> ConversationRef:
    if not isinstance(channel, str):
        raise IdentityError("a Slack message change without a channel")
    if is_dm_channel(channel, event.get("channel_type")):
        return dm_conversation(team_id, channel)
    return thread_conversation(team_id, channel, str(thread_ts or ""))
