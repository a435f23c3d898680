"""Buttons on /memory answers: forget one item, ask why it is remembered, page through a list,
confirm forget-all.

Every button is a `discord.ui.DynamicItem`: its custom id carries the owner and what it acts
on (`memory:forget:<owner>:<item>`), so a press is understood by any process on the same
storage, after a restart too, with no view kept in memory. A press by anyone but the owner is
refused; the owner's press is acknowledged (deferred) before any lock or model is waited for,
within Discord's 3 seconds (https://discord.com/developers/docs/interactions/receiving-and-responding#responding-to-an-interaction),
and the message is edited when the work is done.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, Self, cast

import discord

from adapters.discord.answers import Interaction, answer_error, answer_privately
from adapters.discord.normalize import user_ref
from adapters.discord.render import (
    page_count,
    page_items,
    render_cancelled,
    render_result,
    render_show,
)
from memory import MemoryCommand, MemoryEngine, ShowResult, ShowScope, UserRef

NOT_YOURS = "These buttons belong to the person who ran the command; use `/memory` yourself."


class HasEngine(Protocol):
    """A client that carries the engine (MemoryBot), as buttons find it from an interaction."""

    engine: MemoryEngine


def engine_of(interaction: Interaction) -> MemoryEngine:
    """The engine of the client that received the interaction (MemoryBot has one)."""
    return cast(HasEngine, interaction.client).engine


def show_view(
    owner_id: int, result: ShowResult, scope: ShowScope = "all", page: int = 0
) -> discord.ui.View:
    """One page of a memory list: a forget and a why button per item, and previous/next."""
    view = discord.ui.View(timeout=None)
    pages = page_count(result)
    page = min(max(page, 0), pages - 1)
    items = page_items(result, page)
    for item in items:
        view.add_item(ForgetButton(owner_id, item.id, scope, page))
    for item in items:
        view.add_item(WhyButton(owner_id, item.id))
    if pages > 1:
        view.add_item(PageButton(owner_id, scope, page - 1, "Previous", disabled=page == 0))
        view.add_item(PageButton(owner_id, scope, page + 1, "Next", disabled=page == pages - 1))
    return view


def confirm_view(owner_id: int) -> discord.ui.View:
    """The forget-all question's two buttons."""
    view = discord.ui.View(timeout=None)
    view.add_item(ForgetAllButton(owner_id))
    view.add_item(CancelButton(owner_id))
    return view


async def shown(engine: MemoryEngine, user: UserRef, scope: ShowScope) -> ShowResult:
    """The owner's memory list for `scope` as it is now (after learning what is pending)."""
    result = await engine.run_command(user, MemoryCommand("show", scope=scope))
    assert isinstance(result, ShowResult)
    return result


# The custom id templates: what a press needs, and nothing a stranger could use (the owner is
# checked against the presser, the item against the owner's own memory).
FORGET = r"memory:forget:(?P<owner>\d+):(?P<item>[a-z0-9]+):(?P<scope>[a-z0-9_]+):(?P<page>\d+)"
PAGE = r"memory:page:(?P<owner>\d+):(?P<scope>[a-z0-9_]+):(?P<page>-?\d+)"
FORGET_ALL = r"memory:forget-all:(?P<owner>\d+)"
CANCEL = r"memory:forget-all-cancel:(?P<owner>\d+)"


class OwnedButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"memory:abstract"):
    """A button only its owner may press. Subclasses give their own template, set `owner_id`
    and implement `act`; this base is never registered with the client."""

    owner_id: int

    async def interaction_check(self, interaction: Interaction) -> bool:
        """Refuse (privately) a press by anyone but the owner; defer the owner's at once, before any
        lock or model is waited on. True when `act` may run."""
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return False
        # Acknowledge first: the work below may wait on this person's lock or the model.
        await interaction.response.defer()
        return True

    @property
    def owner(self) -> UserRef:
        """The owner as a core UserRef (the Discord user id from the custom id)."""
        return user_ref(self.owner_id)

    async def callback(self, interaction: Interaction) -> None:
        """Run `act` for the owner; an error is answered privately instead of being only logged."""
        try:
            await self.act(interaction, engine_of(interaction))
        except Exception as exc:  # discord.py would only log it: tell the person too
            await answer_error(interaction, exc)

    async def act(self, interaction: Interaction, engine: MemoryEngine) -> None:
        """What a press does, once the owner is checked and the press deferred (subclasses)."""
        raise NotImplementedError


class ForgetButton(
    OwnedButton,
    template=r"memory:forget:(?P<owner>\d+):(?P<item>[a-z0-9_-]+)(?::(?P<scope>[a-z0-9_]+):(?P<page>\d+))?",
):
    """Forget one listed item; the list is shown again on the same page (or the last one left), with
    what was forgotten above it."""

    def __init__(
        self, owner_id: int, item_id: str, scope: ShowScope = "all", page: int = 0
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"Forget {item_id}",
                style=discord.ButtonStyle.danger,
                custom_id=f"memory:forget:{owner_id}:{item_id}:{scope}:{page}",
                row=0,
            )
        )
        self.owner_id, self.item_id, self.scope, self.page = owner_id, item_id, scope, page

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        """The button again from its custom id (an id without scope and page, from an older version,
        lists all from the first page)."""
        scope = match["scope"] if match["scope"] else "all"
        return cls(int(match["owner"]), match["item"], scope, int(match["page"] or 0))

    async def act(self, interaction: Interaction, engine: MemoryEngine) -> None:
        """Forget the item and edit the message: the result, then the list as it is now."""
        result = await engine.run_command(self.owner, MemoryCommand("forget", item_id=self.item_id))
        fresh = await shown(engine, self.owner, self.scope)
        await interaction.edit_original_response(
            embeds=[
                render_result(result),
                render_show(fresh, min(self.page, page_count(fresh) - 1)),
            ],
            view=show_view(self.owner_id, fresh, self.scope, self.page),
        )


class WhyButton(OwnedButton, template=r"memory:why:(?P<owner>\d+):(?P<item>[a-z0-9_-]+)"):
    """`/memory why` for one listed item, answered privately to its owner (anyone else is
    refused by OwnedButton and shown nothing); the list itself is left as it was."""

    def __init__(self, owner_id: int, item_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"Why {item_id}?",
                style=discord.ButtonStyle.secondary,
                custom_id=f"memory:why:{owner_id}:{item_id}",
                row=1,
            )
        )
        self.owner_id, self.item_id = owner_id, item_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        """The button again from its custom id."""
        return cls(int(match["owner"]), match["item"])

    async def act(self, interaction: Interaction, engine: MemoryEngine) -> None:
        """Answer privately with why the item is remembered."""
        result = await engine.run_command(self.owner, MemoryCommand("why", item_id=self.item_id))
        await answer_privately(interaction, embed=render_result(result))


class PageButton(
    OwnedButton, template=r"memory:page:(?P<owner>\d+):(?P<scope>[a-z0-9_]+):(?P<page>-?\d+)"
):
    """Previous or Next on a memory list: shows that page of the list as it is now."""

    def __init__(
        self,
        owner_id: int,
        scope: ShowScope,
        page: int,
        label: str = "Page",
        *,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"memory:page:{owner_id}:{scope}:{page}",
                disabled=disabled,
                row=2,
            )
        )
        self.owner_id, self.scope, self.page = owner_id, scope, page

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        """The button again from its custom id."""
        scope = match["scope"] if match["scope"] else "all"
        return cls(int(match["owner"]), scope, int(match["page"]))

    async def act(self, interaction: Interaction, engine: MemoryEngine) -> None:
        """Edit the message to the page asked for, kept within the pages the list has now."""
        fresh = await shown(engine, self.owner, self.scope)
        page = min(max(self.page, 0), page_count(fresh) - 1)
        await interaction.edit_original_response(
            embed=render_show(fresh, page), view=show_view(self.owner_id, fresh, self.scope, page)
        )


class _OwnerButton(OwnedButton, template=r"memory:abstract-owner"):
    """A button whose custom id is `<PREFIX>:<owner>` and nothing else."""

    PREFIX = ""
    LABEL = ""
    STYLE = discord.ButtonStyle.secondary

    def __init__(self, owner_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=self.LABEL, style=self.STYLE, custom_id=f"{self.PREFIX}:{owner_id}"
            )
        )
        self.owner_id = owner_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        return cls(int(match["owner"]))


class ForgetAllButton(_OwnerButton, template=FORGET_ALL):
    """Forget everything, only when the owner presses the red button."""

    PREFIX, LABEL, STYLE = "memory:forget-all", "Forget everything", discord.ButtonStyle.danger

    async def act(self, interaction: Interaction, engine: MemoryEngine) -> None:
        """Forget everything about the owner and replace the question with the receipt."""
        command = MemoryCommand("forget_all", confirmed=True)
        receipt = await engine.run_command(self.owner, command)
        await interaction.edit_original_response(embed=render_result(receipt), view=None)


class CancelButton(_OwnerButton, template=CANCEL):
    """Cancel a forget-all question; nothing is deleted."""

    PREFIX, LABEL = "memory:forget-all-cancel", "Cancel"

    async def act(self, interaction: Interaction, engine: MemoryEngine) -> None:
        """Replace the question with "Cancelled: nothing was deleted"."""
        await interaction.edit_original_response(embed=render_cancelled(), view=None)


# Registered with the client at start (`Client.add_dynamic_items`), so presses on messages
# sent by an earlier process are dispatched too.
BUTTONS = (ForgetButton, WhyButton, PageButton, ForgetAllButton, CancelButton)
