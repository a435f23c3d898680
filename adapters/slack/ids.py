"""Slack ids to core keys: users, conversations and message references, each built here only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from memory import ConversationRef, IdentityError, UserRef, conversation_key

PLATFORM = "slack"


def key_part(slack_id: str | None, what: str = "id") -> str:
    """A Slack id or ts as one part of a key: a ts's "." becomes "-" (keys allow no dots)."""
    if not slack_id or not isinstance(slack_id, str):
        raise IdentityError(f"missing Slack {what}")
    return slack_id.replace(".", "-")


def workspace_of(team_id: str | None, enterprise_id: str | None = None) -> str:
    """The workspace part of a user key: the Enterprise Grid org when there is one (a Grid
    user id is the same in every workspace of the org), else the team."""
    if enterprise_id:
        return key_part(enterprise_id, "enterprise id")
    return key_part(team_id, "team id")


def enterprise_of(payload: Mapping[str, Any]) -> str | None:
    """The Enterprise Grid org a Slack payload comes from, or None outside Grid.

    Every shape Slack sends (api.slack.com/enterprise/grid): slash commands and Events API
    envelopes carry `enterprise_id` (events also `authorizations[0].enterprise_id`); block
    actions and view submissions carry `enterprise` ({"id", "name"}, or null for a workspace
    install) and `team.enterprise_id`; org-wide installs may send `team: null` with
    `user.enterprise_id`.
    """
    org = payload.get("enterprise")
    if isinstance(org, str) and org:
        return org
    if isinstance(org, Mapping) and org.get("id"):
        return str(org["id"])
    authorizations = payload.get("authorizations") or [None]
    for source in (payload, authorizations[0], payload.get("team"), payload.get("user")):
        if isinstance(source, Mapping) and source.get("enterprise_id"):
            return str(source["enterprise_id"])
    return None


def slack_user(
    user_id: str | None,
    team_id: str | None,
    enterprise_id: str | None = None,
    name: str | None = None,
) -> UserRef:
    """The one way a Slack person becomes a UserRef; a missing id is an error, never a default.

    An Enterprise Grid user is one person across the org's workspaces (`slack:E1:W1`); a
    user of a workspace outside Grid is keyed by the team (`slack:T1:U1`).
    """
    return UserRef(
        PLATFORM,
        key_part(user_id, "user id"),
        workspace=workspace_of(team_id, enterprise_id),
        display_name=name,
    )


def is_dm_channel(channel: str | None, channel_type: str | None = None) -> bool:
    """Whether a Slack channel is a 1:1 DM: by the event's `channel_type` ("im"; Slack's
    message.im event, https://api.slack.com/events/message.im) when given, else by the id
    (a DM's starts with "D"). A group DM ("mpim") counts as a channel."""
    if channel_type:
        return channel_type == "im"
    return isinstance(channel, str) and channel.startswith("D")


def dm_conversation(team_id: str | None, channel: str | None) -> ConversationRef:
    """The conversation of a DM, `slack:<team>:<channel>`, audience "dm". IdentityError when
    the team or channel id is missing or unsafe."""
    key = conversation_key(PLATFORM, key_part(team_id, "team id"), key_part(channel, "channel"))
    return ConversationRef(key, "dm", PLATFORM)


def thread_conversation(
    team_id: str | None, channel: str | None, thread_ts: str | None
) -> ConversationRef:
    """A channel thread, `slack:<team>:<channel>:<thread ts with "-">`, audience "channel";
    a ts is unique only within its channel, so the channel is in the key. IdentityError
    when an id is missing or unsafe."""
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
        """`channel/ts` (`C1/1700000000.000100`): the ChatMessage.message_id of the message."""
        return f"{self.channel}/{self.ts}"

    @classmethod
    def parse(cls, message_id: str) -> MessageRef | None:
        """The reference a `channel/ts` message id names; None for an id of another shape
        (another platform's, a console line's)."""
        channel, sep, ts = message_id.partition("/")
        return cls(channel, ts) if sep and channel and ts else None


def permalink(
    base_url: str | None, channel: str, ts: str, thread_ts: str | None = None
) -> str | None:
    """A message link built from the workspace URL (auth.test's `url`), without an extra API
    call: `<url>/archives/<channel>/p<ts without its dot>`, plus `?thread_ts=..&cid=..` for
    a reply in a thread (the shape chat.getPermalink returns,
    https://api.slack.com/methods/chat.getPermalink). None without a workspace URL."""
    if not base_url:
        return None
    link = f"{base_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link
