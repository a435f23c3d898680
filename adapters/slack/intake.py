"""Recording a Slack event in the durable inbox before it is acknowledged.

A bolt global middleware: it runs after bolt's own (signature, authorization, the bot's own
events) and before any listener, and bolt acknowledges an event only after the middleware
chain. When the inbox cannot record the event it answers 503, so over HTTP Slack sends it
again, and over Socket Mode the envelope is not acknowledged (bolt only acks a 200).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.response import BoltResponse

from adapters.slack.changes import CHANGE_SUBTYPES
from adapters.slack.ids import is_dm_channel, slack_user
from adapters.slack.normalize import is_human_message
from memory import Delivery, IdentityError

log = logging.getLogger(__name__)

SKIPPED = "skipped a redelivered event"

Middleware = Callable[..., Awaitable[BoltResponse | None]]


def inbox_key(event_id: str) -> str:
    """The inbox key of a Slack Events API event."""
    return f"slack:{event_id}"


def may_answer(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """Could the bot answer this event? DMs, @mentions and replies in threads (whether the
    bot is in the thread is looked up later), and edits and deletions of messages (an erasure
    must not be lost between the ack and its handling). Top-level channel chatter is not
    recorded."""
    kind = event.get("type")
    if kind == "message" and event.get("subtype") in CHANGE_SUBTYPES:
        return True
    if kind == "app_mention":
        return not is_dm_channel(event.get("channel"), event.get("channel_type"))
    if kind != "message" or not is_human_message(event, bot_user_id):
        return False
    if is_dm_channel(event.get("channel"), event.get("channel_type")):
        return True
    thread_ts = event.get("thread_ts")
    return bool(thread_ts) and thread_ts != event.get("ts")


def author_of(event: Mapping[str, Any], context: AsyncBoltContext) -> str | None:
    """The account key of whoever wrote an event's text (the message's author for an edit or
    a deletion), or None when the event names nobody usable."""
    author: Any = event.get("user")
    for inner in ("message", "previous_message"):
        nested = event.get(inner)
        if author is None and isinstance(nested, Mapping):
            author = nested.get("user")
    try:
        return slack_user(author, context.team_id, context.enterprise_id).key
    except (IdentityError, ValueError):
        return None  # sealed with the master key instead


def record_before_ack(delivery: Delivery) -> Middleware:
    """The middleware, bound to this process's delivery."""

    async def record(
        body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event = body.get("event")
        event_id = body.get("event_id")
        if (
            body.get("type") != "event_callback"
            or not isinstance(event, dict)
            or not isinstance(event_id, str)
            or not may_answer(event, context.bot_user_id)
        ):
            await next()
            return None
        try:
            state = await delivery.record(inbox_key(event_id), body, author_of(event, context))
        except Exception as exc:
            log.warning(
                "could not record a Slack event (%s): asking Slack to send it again",
                type(exc).__name__,
                extra={"event_id": event_id},
            )
            return BoltResponse(status=503, body={"error": "temporarily unavailable"})
        if state == "done":
            log.info(SKIPPED, extra={"event_id": event_id})
            return BoltResponse(status=200, body="")
        await next()
        return None

    return record
