"""Ids of the messages kept in a conversation's state, so a platform message can be found again.

A person's message and the bot's reply to it carry the platform message id and the author's
person id (memory.accounts.people), which lets an erasure (forget, forget all, a platform delete)
remove exactly the turns it concerns from a conversation that other people may share.
"""

from __future__ import annotations

from dataclasses import dataclass

_REPLY = "reply|"


@dataclass(frozen=True)
class TurnId:
    """What a stored message id says: which platform message, whose, and whether a reply."""

    message_id: str
    user_key: str
    reply: bool = False


def human_id(message_id: str, user_key: str) -> str:
    """The state id of a person's message (`{message_id}|{user_key}`).

    Platform message ids never contain "|" (Slack ts, Discord snowflakes, console line ids),
    so splitting on the first "|" is unambiguous whatever the user key holds.
    """
    return f"{message_id}|{user_key}"


def reply_id(message_id: str, user_key: str) -> str:
    """The state id of the bot's reply to that message."""
    return _REPLY + human_id(message_id, user_key)


def parse_turn_id(state_id: str | None) -> TurnId | None:
    """The TurnId of a stored message id, or None for ids this module did not make."""
    if not state_id:
        return None
    reply = state_id.startswith(_REPLY)
    body = state_id.removeprefix(_REPLY)
    message_id, sep, user_key = body.partition("|")
    if not sep or not message_id or not user_key:
        return None
    return TurnId(message_id, user_key, reply)
