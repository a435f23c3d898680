"""Posting an answer to Slack in as many messages as it takes, each within Slack's limits."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.normalize import escape
from adapters.split import split_text

log = logging.getLogger(__name__)

# Slack asks to keep a message's text near 4,000 characters and may refuse a longer one with
# `msg_too_long` (https://docs.slack.dev/reference/methods/chat.postMessage); the limit
# counts the escaped text (`&amp;` is five characters).
TEXT_LIMIT = 4_000
# Parts are cut this small before escaping, so most never need cutting again.
PART_CHARS = 3_500


def message_parts(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` as escaped Slack message texts of at most `limit` characters each, cut at
    paragraph / sentence boundaries with code fences kept balanced; never empty."""
    parts: list[str] = []
    for part in split_text(text, max(20, min(PART_CHARS, limit))) or ["…"]:
        escaped = escape(part)
        if len(escaped) <= limit:
            parts.append(escaped)
            continue
        # Many &, < or > grew it: cut the plain part smaller, in proportion.
        smaller = max(20, len(part) * limit // len(escaped) - 10)
        parts.extend(message_parts(part, smaller))
    return parts


async def post_answer(
    client: AsyncWebClient, channel: str, text: str, thread_ts: str | None = None
) -> None:
    """Post `text` as one or more messages in `channel` (in `thread_ts` when given).

    A part Slack still refuses as `msg_too_long` is cut in half and posted again, once.
    Raises SlackApiError for any other refusal (the caller logs it).
    """
    for part in message_parts(text):
        try:
            await _post(client, channel, part, thread_ts)
        except SlackApiError as exc:
            if exc.response.get("error") != "msg_too_long" or len(part) < 40:
                raise
            log.info("Slack refused a message as too long; posting it in halves")
            for half in split_text(part, len(part) // 2 + 1):
                await _post(client, channel, half, thread_ts)


async def _post(client: AsyncWebClient, channel: str, text: str, thread_ts: str | None) -> None:
    args: dict[str, str] = {"channel": channel, "text": text}
    if thread_ts:
        args["thread_ts"] = thread_ts
    await client.chat_postMessage(**args)  # type: ignore[arg-type]
