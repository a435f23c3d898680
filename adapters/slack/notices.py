"""The "memory updated" notice: an ephemeral message (only the person sees it) in the DM or
thread they were talking in, with a one-line summary of what changed and an Undo button.

chat.postEphemeral needs the channel, the person's Slack user id and, in a thread, the thread's
ts; the learned message and its conversation key carry all three. A removal the person asked
for is final, so its notice has no Undo.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import controls
from adapters.slack.controls import ButtonValue
from adapters.slack.ids import MessageRef
from adapters.slack.normalize import escape
from memory import MemoryChanged

log = logging.getLogger(__name__)

Notices = Literal["off", "reaction", "message"]
# Slack's limit for a section block's text is 3,000 characters (Block Kit reference).
SUMMARY_CHARS = 2800


def notice_message(changed: MemoryChanged) -> dict[str, Any]:
    """`text` and `blocks` for the notice; the Undo button names the owner and the change set."""
    summary = changed.summary()[:SUMMARY_CHARS]
    verb = changed.verb
    text = f":brain: {verb}: {escape(summary)}"
    section: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if changed.undoable and changed.change_set is not None:
        value = ButtonValue(changed.user_key, changed.change_set.id).encode()
        section["accessory"] = {
            "type": "button",
            "action_id": controls.UNDO,
            "text": {"type": "plain_text", "text": "Undo"},
            "value": value,
        }
    return {"text": f"{verb}: {summary}", "blocks": [section]}


def thread_ts_of(conversation: str) -> str | None:
    """The thread ts in a channel thread's key (`slack:T:C:1700000000-000100`), else None."""
    parts = conversation.split(":")
    return parts[3].replace("-", ".") if len(parts) == 4 else None


async def post_notice(client: AsyncWebClient, changed: MemoryChanged) -> bool:
    """Show the notice to its person only; False when Slack refused (it is then only logged)."""
    ref = MessageRef.parse(changed.message_id)
    if ref is None:
        return False
    args: dict[str, Any] = {
        "channel": ref.channel,
        "user": changed.user_key.rsplit(":", 1)[-1],
        **notice_message(changed),
    }
    thread_ts = thread_ts_of(changed.conversation)
    if thread_ts:
        args["thread_ts"] = thread_ts
    try:
        await client.chat_postEphemeral(**args)
    except SlackApiError as exc:
        log.warning(
            "Slack chat.postEphemeral failed: %s",
            exc.response.get("error"),
            extra={"channel": ref.channel},
        )
        return False
    return True
