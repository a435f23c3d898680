"""/memory results as Discord embeds (memory lists paginated) and the export as a file."""

from __future__ import annotations

import io
import math

import discord
from discord.utils import escape_markdown

from memory import (
    VERBS,
    CommandResult,
    ConfirmForgetAll,
    CorrectResult,
    ExportResult,
    ForgetAllReceipt,
    ForgetResult,
    HelpResult,
    ItemView,
    LearningResult,
    LinkResult,
    ShowResult,
)

PAGE_SIZE = 5  # one row of forget buttons per page
ITEM_CHARS = 300
MEMORY_COLOUR = discord.Colour.blurple()
DANGER_COLOUR = discord.Colour.red()
DONE_COLOUR = discord.Colour.green()

# Discord names forget all `forget-all` (a subcommand is one word).
HELP = (
    "\n".join(
        f"`{verb.signature(verb.name)}`: {verb.help}" for verb in VERBS if verb.action != "help"
    )
    + "\nEverything here is visible only to you."
)


def clip(text: str, limit: int = ITEM_CHARS) -> str:
    """`text` on one line (runs of white space folded) and at most `limit` characters, ending in "…"
    when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def forgettable(result: ShowResult) -> list[ItemView]:
    """Everything remembered, each with an id (profile fields, then items), in page order."""
    return result.everything


def page_count(result: ShowResult) -> int:
    """How many pages of PAGE_SIZE items the list takes (at least 1, for an empty list)."""
    return max(1, math.ceil(len(forgettable(result)) / PAGE_SIZE))


def page_items(result: ShowResult, page: int) -> list[ItemView]:
    """The items on `page` (0-based): at most PAGE_SIZE, one row of buttons' worth (an action row
    holds 5 buttons; https://discord.com/developers/docs/components/reference#action-row)."""
    start = page * PAGE_SIZE
    return forgettable(result)[start : start + PAGE_SIZE]


def render_show(result: ShowResult, page: int = 0) -> discord.Embed:
    """One page (0-based) of the list as an embed: a field per item (at most ITEM_CHARS characters
    of text; an embed field's value is at most 1,024) with its source and how to ask why, and a
    footer with the page, linked accounts, learning still running, a pause and that only the person
    sees it."""
    embed = discord.Embed(title="What I remember about you", colour=MEMORY_COLOUR)
    if result.empty:
        embed.description = "I don't remember anything about you yet."
    for item in page_items(result, page):
        state = f" · {item.state}" if item.state else ""
        embed.add_field(
            name=f"`{item.id}` · {item.kind}{state}", value=_item_value(item), inline=False
        )
    footer = [f"Page {page + 1}/{page_count(result)}"] if page_count(result) > 1 else []
    if result.linked_text():
        footer.append(result.linked_text())
    footer.extend(result.learning_lines())
    if result.paused:
        footer.append("Learning is paused: /memory resume starts it again")
    footer.append("Only you can see this")
    embed.set_footer(text=" · ".join(footer))
    return embed


def _item_value(item: ItemView, limit: int = ITEM_CHARS) -> str:
    source = item.source()
    if item.permalink:
        source = f"[{source}]({item.permalink})"
    source += f" · why: `/memory why {item.id}`"
    return f"{escape_markdown(clip(item.text, limit))}\n-# {source}"


def render_result(result: CommandResult) -> discord.Embed:
    """The embed for any result; ShowResult gets its first page."""
    if isinstance(result, ShowResult):
        return render_show(result)
    if isinstance(result, ForgetResult):
        text = f"Forgotten: {escape_markdown(clip(result.item.text))}"
        return discord.Embed(title="Forgotten", description=text, colour=DONE_COLOUR)
    if isinstance(result, ConfirmForgetAll):
        return render_confirm_forget_all(result)
    if isinstance(result, ForgetAllReceipt):
        return discord.Embed(
            title="Everything forgotten", description=result.as_text(), colour=DONE_COLOUR
        )
    if isinstance(result, CorrectResult):
        return discord.Embed(
            title="Correction", description=escape_markdown(result.as_text()), colour=DONE_COLOUR
        )
    if isinstance(result, LearningResult):
        title = "Learning paused" if result.paused else "Learning resumed"
        return discord.Embed(title=title, description=result.as_text(), colour=MEMORY_COLOUR)
    if isinstance(result, ExportResult):
        return discord.Embed(
            title="Export", description=f"Attached: `{result.filename}`", colour=MEMORY_COLOUR
        )
    if isinstance(result, LinkResult):
        return discord.Embed(title=result.title, description=result.text, colour=DONE_COLOUR)
    if isinstance(result, HelpResult):
        return render_help()
    # Every other result (undo, why, history, and any added later) as its text.
    # Discord's limit for an embed description is 4,096 characters.
    return discord.Embed(description=clip(result.as_text(), 4000), colour=MEMORY_COLOUR)


def render_help() -> discord.Embed:
    """The usage of every verb as an embed."""
    return discord.Embed(title="/memory", description=HELP, colour=MEMORY_COLOUR)


def render_confirm_forget_all(result: ConfirmForgetAll) -> discord.Embed:
    """The forget-all question as an embed (its buttons come from views.confirm_view)."""
    return discord.Embed(
        title="Forget everything?", description=result.question(), colour=DANGER_COLOUR
    )


def render_cancelled() -> discord.Embed:
    """What a cancelled forget-all says: nothing was deleted."""
    return discord.Embed(
        title="Cancelled", description="Nothing was deleted.", colour=MEMORY_COLOUR
    )


def render_export(result: ExportResult) -> tuple[str, discord.File]:
    """The message text and the JSON attachment of an export."""
    file = discord.File(io.BytesIO(result.json_text.encode()), filename=result.filename)
    return "Everything I remember about you is in the attached JSON file.", file
