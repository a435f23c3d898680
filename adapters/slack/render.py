"""/memory results to Block Kit (ephemeral messages and the App Home view), with a text fallback."""

from __future__ import annotations

from typing import Any

from adapters.slack import controls
from adapters.slack.controls import ButtonValue
from adapters.slack.normalize import escape
from memory import USAGE, CommandResult, ConfirmForgetAll, HelpResult, ItemView, ShowResult, UserRef

Block = dict[str, Any]
Message = dict[str, Any]  # {"text": ..., "blocks": [...]} for respond() / chat.postEphemeral

# Block Kit allows 50 blocks in a message and 100 in a Home view; leave room for the frame
# (up to 10 blocks in a message, 13 in the Home view). Each item takes two blocks: its text,
# and its Why and Forget buttons.
# A section's text is at most 3,000 characters, a header's 150; a message's `text` (the
# notification and fallback when there are blocks) should stay near 4,000 or Slack refuses it.
# Source: https://docs.slack.dev/reference/block-kit/blocks
MESSAGE_ITEMS = 20
HOME_ITEMS = 43
SECTION_CHARS = 2900
HEADER_CHARS = 150
FALLBACK_CHARS = 3000


def render_result(result: CommandResult, owner: UserRef, note: str | None = None) -> Message:
    """Any /memory result as an ephemeral message; `note` (e.g. "Forgotten: …") goes on top."""
    if isinstance(result, ShowResult):
        blocks = show_blocks(result, owner, MESSAGE_ITEMS)
    elif isinstance(result, ConfirmForgetAll):
        blocks = confirm_blocks(result, owner)
    elif isinstance(result, HelpResult):
        blocks = [_section("*/memory* commands:\n```" + escape(USAGE) + "```")]
    else:
        blocks = [_section(escape(result.as_text()))]
    if note:
        blocks = [_context(escape(note)), *blocks]
    fallback = result.as_text()
    return {
        "text": _clip(f"{note}\n{fallback}" if note else fallback, FALLBACK_CHARS),
        "blocks": blocks,
    }


def render_text(text: str) -> Message:
    """A plain ephemeral notice (a refusal, the usage text, an export note)."""
    return {"text": _clip(text, FALLBACK_CHARS), "blocks": [_section(escape(text))]}


def _clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in "…" when cut (the blocks carry it all)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_home(
    result: ShowResult,
    owner: UserRef,
    *,
    note: str | None = None,
    top: list[Block] | None = None,
) -> dict[str, Any]:
    """The App Home tab: the same list and controls as `/memory show`."""
    blocks = [_context("Only you can see this page. `/memory help` lists the commands.")]
    if note:
        blocks.append(_context(escape(note)))
    blocks.extend(top or [])
    blocks.extend(show_blocks(result, owner, HOME_ITEMS))
    return {"type": "home", "blocks": blocks}


def show_blocks(result: ShowResult, owner: UserRef, limit: int) -> list[Block]:
    """The memory list as Block Kit blocks: a header, the items (at most `limit`, two blocks each:
    text, then Why and Forget buttons), a line for the rest, and the controls. Callers choose
    `limit` to stay within Slack's 50 blocks a message or 100 a Home view."""
    blocks: list[Block] = [_header("What I remember about you")]
    if result.paused:
        blocks.append(_context(":double_vertical_bar: Learning is paused."))
    if result.empty:
        blocks.append(_section("I don't remember anything about you yet."))
    blocks.extend(_context(":hourglass_flowing_sand: " + line) for line in result.learning_lines())
    shown = 0
    for section in result.sections:
        if not section.items:
            continue
        blocks.append(_section(f"*{escape(section.title)}*"))
        for view in section.items:
            if shown >= limit:
                break
            blocks.extend(_item(view, owner))
            shown += 1
    total = len(result.everything)
    if total > shown:
        blocks.append(_context(f"…and {total - shown} more. `/memory export` has everything."))
    if result.linked_text():
        blocks.append(_context(escape(result.linked_text())))
    blocks.append(_controls(result, owner))
    return blocks


def confirm_blocks(result: ConfirmForgetAll, owner: UserRef) -> list[Block]:
    """The forget-all question with Forget everything (confirmed again in a dialog) and Cancel
    buttons, for `owner` only."""
    value = ButtonValue(owner.key).encode()
    return [
        _section(escape(result.question())),
        {
            "type": "actions",
            "elements": [
                _button(
                    "Forget everything",
                    controls.FORGET_ALL_CONFIRM,
                    value,
                    style="danger",
                    confirm=_dialog(
                        "Forget everything?",
                        "Everything I remember about you will be deleted for good.",
                        "Forget everything",
                    ),
                ),
                _button("Cancel", controls.CANCEL, value),
            ],
        },
    ]


def _item(view: ItemView, owner: UserRef) -> list[Block]:
    """One item: its text and source, then its buttons. "Why?" opens `/memory why` for it,
    privately (the button names its owner: anyone else pressing it is refused)."""
    source = escape(view.source())
    if view.permalink:
        source += f" · <{view.permalink}|message>"
    state = f" _[{escape(view.state)}]_" if view.state else ""
    value = ButtonValue(owner.key, view.id).encode()
    buttons = [
        _button("Why?", controls.WHY, value),
        _button("Forget", controls.FORGET, value),
    ]
    return [
        _section(f"`{view.id}` {escape(view.text)}{state}\n_{source}_"),
        {"type": "actions", "elements": buttons},
    ]


def _controls(result: ShowResult, owner: UserRef) -> Block:
    value = ButtonValue(owner.key).encode()
    learning = (
        _button("Resume learning", controls.RESUME, value)
        if result.paused
        else _button("Pause learning", controls.PAUSE, value)
    )
    elements = [learning, _button("Export", controls.EXPORT, value)]
    if not result.empty:
        elements.append(_button("Forget everything…", controls.FORGET_ALL, value, style="danger"))
    return {"type": "actions", "elements": elements}


def _button(
    text: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    if confirm:
        button["confirm"] = confirm
    return button


def _dialog(title: str, text: str, confirm: str) -> dict[str, Any]:
    return {
        "title": {"type": "plain_text", "text": title},
        "text": {"type": "plain_text", "text": text},
        "confirm": {"type": "plain_text", "text": confirm},
        "deny": {"type": "plain_text", "text": "Keep my memory"},
        "style": "danger",
    }


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": _clip(text, HEADER_CHARS)}}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_CHARS)}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
