"""Slack's documented size limits, checked on everything the fake receives, so a test fails
when the bot sends what real Slack would refuse or cut.

Sources: https://docs.slack.dev/reference/methods/chat.postMessage (text: keep near 4,000
characters, `msg_too_long` past it; truncated past 40,000) and
https://docs.slack.dev/reference/block-kit/blocks (50 blocks in a message, 100 in a Home tab;
a section's text 3,000 characters; a header's 150; a button's text 75 and value 2,000).
"""

from __future__ import annotations

import json
from typing import Any

TEXT_LIMIT = 4_000
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3_000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2_000


def message_problem(args: dict[str, Any], *, max_blocks: int = MESSAGE_BLOCKS) -> str | None:
    """Slack's error for a message (chat.postMessage / postEphemeral / update, or a
    response_url body) that breaks a limit, else None."""
    text = args.get("text")
    if isinstance(text, str) and len(text) > TEXT_LIMIT:
        return "msg_too_long"
    return blocks_problem(args.get("blocks"), max_blocks)


def blocks_problem(blocks: Any, max_blocks: int) -> str | None:
    """`invalid_blocks` when the blocks break a Block Kit limit, else None."""
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if not blocks:
        return None
    if len(blocks) > max_blocks:
        return "invalid_blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "section" and len(text) > SECTION_TEXT:
            return "invalid_blocks"
        if block.get("type") == "header" and len(text) > HEADER_TEXT:
            return "invalid_blocks"
        elements = [block.get("accessory") or {}, *block.get("elements", [])]
        for element in elements:
            if element.get("type") != "button":
                continue
            if len(element["text"]["text"]) > BUTTON_TEXT:
                return "invalid_blocks"
            if len(element.get("value", "")) > BUTTON_VALUE:
                return "invalid_blocks"
    return None
