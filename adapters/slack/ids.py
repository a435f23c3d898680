"""Slack ids to core keys: users, conversations and message references, each built here only."""

from __future__ import annotations

from dataclasses import dataclass

from memory.errors import IdentityError
from memory.identity import ConversationRef, UserRef, conversation_key

PLATFORM = "slack"


def key_part(slack_id: str | None, what: str = "id") -> str:
    """A Slack id or ts as one part of a key: a ts's "." becomes "-" (keys allow no dots)."""
    if not slack_id or not isinstance(slack_id, str):
        raise IdentityError(f"missing Slack {what}")
    return slack_id.replace(".", "-")


def workspace_of(team_id: str | None, enterprise_id: str | None = None) -> str:
    """The workspace part of a user key: the team, prefixed by the Enterprise Grid org if any."""
    team = key_part(team_id, "team id")
    return f"{key_part(enterprise_id, 'enterprise id')}-{team}" if enterprise_id else team


def slack_user(
    user_id: str | None,
    team_id: str | None,
    enterprise_id: str | None = None,
    name: str | None = None,
) -> UserRef:
    """The one way a Slack person becomes a UserRef; a missing id is an error, never a default."""
    return UserRef(
        PLATFORM,
        key_part(user_id, "user id"),
        workspace=workspace_of(team_id, enterprise_id),
        display_name=name,
    )


def is_dm_channel(channel: str | None, channel_type: str | None = None) -> bool:
    if channel_type:
        return channel_type == "im"
    return isinstance(channel, str) and channel.startswith("D")


def dm_conversation(team_id: str | None, channel: str | None) -> ConversationRef:
    key = conversation_key(PLATFORM, key_part(team_id, "team id"), key_part(channel, "channel"))
    return ConversationRef(key, "dm", PLATFORM)


def thread_conversation(
    team_id: str | None, channel: str | None, thread_ts: str | None
) -> ConversationRef:
    """A channel thread; a ts is unique only within its channel, so the channel is in the key."""
    key = conversation_key(
        PLATFORM,
        key_part(team_id, "team id"),
        key_part(channel, "channel"),
        key_part(thread_ts, "thread ts"),
    )
    return ConversationRef(key, "channel", PLATFORM)


def command_conversation(team_id: str | None, channel: str | None) -> ConversationRef | None:
    """Where a /memory command was typed (for a correction's provenance), if known."""
    if not (team_id and channel):
        return None
    if is_dm_channel(channel):
        return dm_conversation(team_id, channel)
    key = conversation_key(PLATFORM, key_part(team_id, "team id"), key_part(channel, "channel"))
    return ConversationRef(key, "channel", PLATFORM)


@dataclass(frozen=True)
class MessageRef:
    """Where a Slack message is: enough to react to it once something was learned from it."""

    channel: str
    ts: str

    @property
    def message_id(self) -> str:
        return f"{self.channel}/{self.ts}"

    @classmethod
    def parse(cls, message_id: str) -> MessageRef | None:
        channel, sep, ts = message_id.partition("/")
        return cls(channel, ts) if sep and channel and ts else None


def permalink(
    base_url: str | None, channel: str, ts: str, thread_ts: str | None = None
) -> str | None:
    """A message link built from the workspace URL (auth.test), without an extra API call."""
    if not base_url:
        return None
    link = f"{base_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link
