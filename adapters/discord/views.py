"""Buttons on /memory answers: forget one item, page through a list, confirm forget-all."""

from __future__ import annotations

from typing import Any

import discord

from adapters.discord.answers import Interaction, answer_error
from adapters.discord.render import (
    page_count,
    page_items,
    render_cancelled,
    render_result,
    render_show,
)
from memory.commands import MemoryCommand, ShowScope
from memory.engine import MemoryEngine
from memory.identity import UserRef
from memory.results import ShowResult

NOT_YOURS = "These buttons belong to the person who ran the command; use `/memory` yourself."
TIMEOUT = 14 * 60  # an interaction token lives 15 minutes; after that edits would fail anyway


class OwnedView(discord.ui.View):
    """A view whose buttons answer only the person who ran the command."""

    def __init__(self, engine: MemoryEngine, user: UserRef, owner_id: int) -> None:
        super().__init__(timeout=TIMEOUT)
        self.engine = engine
        self.user = user
        self.owner_id = owner_id

    async def interaction_check(self, interaction: Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False

    async def on_error(
        self, interaction: Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await answer_error(interaction, error)


class ShowView(OwnedView):
    """One page of a memory list: a forget button per item, and previous/next."""

    def __init__(
        self,
        engine: MemoryEngine,
        user: UserRef,
        owner_id: int,
        result: ShowResult,
        scope: ShowScope = "all",
        page: int = 0,
    ) -> None:
        super().__init__(engine, user, owner_id)
        self.result = result
        self.scope = scope
        self.page = min(max(page, 0), page_count(result) - 1)
        for item in page_items(result, self.page):
            self.add_item(ForgetButton(item.id))
        if page_count(result) > 1:
            self.add_item(PageButton("Previous", -1, disabled=self.page == 0))
            self.add_item(PageButton("Next", +1, disabled=self.page == page_count(result) - 1))

    def embed(self) -> discord.Embed:
        return render_show(self.result, self.page)

    async def refreshed(self, page: int) -> ShowView:
        command = MemoryCommand("show", scope=self.scope)
        result = await self.engine.run_command(self.user, command)
        assert isinstance(result, ShowResult)
        return ShowView(self.engine, self.user, self.owner_id, result, self.scope, page)


class ForgetButton(discord.ui.Button[ShowView]):
    def __init__(self, item_id: str) -> None:
        super().__init__(
            label=f"Forget {item_id}",
            style=discord.ButtonStyle.danger,
            custom_id=f"memory:forget:{item_id}",
            row=0,
        )
        self.item_id = item_id

    async def callback(self, interaction: Interaction) -> None:
        view = self.view
        assert view is not None
        result = await view.engine.run_command(
            view.user, MemoryCommand("forget", item_id=self.item_id)
        )
        fresh = await view.refreshed(view.page)
        view.stop()
        await interaction.response.edit_message(
            embeds=[render_result(result), fresh.embed()], view=fresh
        )


class PageButton(discord.ui.Button[ShowView]):
    def __init__(self, label: str, step: int, *, disabled: bool) -> None:
        super().__init__(
            label=label,
            style=discord.ButtonStyle.secondary,
            custom_id=f"memory:page:{step:+d}",
            disabled=disabled,
            row=1,
        )
        self.step = step

    async def callback(self, interaction: Interaction) -> None:
        view = self.view
        assert view is not None
        fresh = await view.refreshed(view.page + self.step)
        view.stop()
        await interaction.response.edit_message(embed=fresh.embed(), view=fresh)


class ConfirmForgetAllView(OwnedView):
    """Forget everything only after the owner presses the red button."""

    @discord.ui.button(
        label="Forget everything", style=discord.ButtonStyle.danger, custom_id="memory:forget-all"
    )
    async def confirm(self, interaction: Interaction, button: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.defer()  # deleting may take a while; edit the message after
        command = MemoryCommand("forget_all", confirmed=True)
        receipt = await self.engine.run_command(self.user, command)
        await interaction.edit_original_response(embed=render_result(receipt), view=None)

    @discord.ui.button(
        label="Cancel", style=discord.ButtonStyle.secondary, custom_id="memory:forget-all:cancel"
    )
    async def cancel(self, interaction: Interaction, button: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.edit_message(embed=render_cancelled(), view=None)
