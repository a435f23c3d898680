"""Bodies Slack sends an app: Events API envelopes and events, slash commands, interactivity."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlencode

from .records import APP_ID, BOT_USER_ID, JsonDict


def event_envelope(event: JsonDict, team_id: str = "T1", event_id: str | None = None) -> JsonDict:
    """An Events API `event_callback` envelope around `event`, addressed to the bot."""
    return {
        "token": "legacy-verification-token",
        "type": "event_callback",
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team_id, "user_id": BOT_USER_ID, "is_bot": True}],
        "event": event,
    }


def app_mention_event(
    text: str,
    user: str = "U1",
    channel: str = "C1",
    ts: str = "1699999999.000100",
    thread_ts: str | None = None,
    team: str = "T1",
) -> JsonDict:
    """An `app_mention` event; `text` should contain `<@UBOT>`."""
    event: JsonDict = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": team,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def dm_event(
    text: str, user: str = "U1", channel: str = "D1", ts: str = "1699999999.000200"
) -> JsonDict:
    """A direct-message `message` event (channel_type "im")."""
    return {
        "type": "message",
        "channel_type": "im",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }


def slash_command_form(
    text: str,
    user_id: str,
    team_id: str,
    channel_id: str,
    response_url: str,
    command: str = "/memory",
) -> bytes:
    """A url-encoded slash command body, as Slack POSTs it."""
    return urlencode(
        slash_command_fields(text, user_id, team_id, channel_id, response_url, command)
    ).encode()


def slash_command_fields(
    text: str,
    user_id: str,
    team_id: str,
    channel_id: str,
    response_url: str,
    command: str = "/memory",
) -> dict[str, str]:
    """The slash command fields (the Socket Mode `slash_commands` payload is this dict)."""
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "response_url": response_url,
        "trigger_id": f"trig.{uuid.uuid4().hex[:12]}",
    }


def block_actions_form(payload: JsonDict) -> bytes:
    """A url-encoded interactivity body: `payload=<json>`."""
    return urlencode({"payload": json.dumps(payload)}).encode()
