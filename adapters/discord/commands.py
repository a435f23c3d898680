"""The /memory slash command group: every answer is private to the person who asked.

Every command is deferred (ephemeral, "thinking") before it runs, by `DeferringTree`, so the
first response is in within Discord's 3 seconds whatever the person's lock or the model are
doing; the answer follows as a followup (valid for 15 minutes)."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

import discord
from discord import app_commands

from adapters.discord.answers import Interaction, answer_privately
from adapters.discord.normalize import conversation_ref, user_ref
from adapters.discord.render import clip, render_export, render_help, render_result, render_show
from adapters.discord.views import confirm_view, show_view
from adapters.discord.views import shown as current
from memory.commands import ITEM_ID, MAX_COMMAND_CHARS, MemoryCommand, ShowScope, parse_command
from memory.engine import MemoryEngine
from memory.identity import ConversationRef, UserRef
from memory.results import CommandResult, ConfirmForgetAll, ExportResult, ShowResult

log = logging.getLogger(__name__)

MAX_CHOICES = 25  # Discord's limit for autocomplete answers


def caller(interaction: Interaction) -> UserRef:
    return user_ref(interaction.user.id, interaction.user.display_name)


def where(interaction: Interaction) -> ConversationRef | None:
    if interaction.channel_id is None:
        return None
    return conversation_ref(interaction.guild_id, interaction.channel_id)


class DeferringTree(app_commands.CommandTree[discord.Client]):
    """A command tree that acknowledges each slash command before running it."""

    async def interaction_check(self, interaction: Interaction, /) -> bool:
        if (
            interaction.type is discord.InteractionType.application_command
            and not interaction.response.is_done()
        ):
            await interaction.response.defer(ephemeral=True, thinking=True)
        return True


class MemoryCommands(app_commands.Group):
    """`/memory show|forget|forget-all|correct|export|pause|resume|link|unlink|help`."""

    def __init__(self, engine: MemoryEngine) -> None:
        super().__init__(
            name="memory", description="See, correct and erase what the bot remembers about you"
        )
        self.engine = engine
        self._refreshing: set[asyncio.Task[None]] = set()

    async def _run(self, interaction: Interaction, command: MemoryCommand) -> CommandResult:
        return await self.engine.run_command(caller(interaction), command, where(interaction))

    @app_commands.command(name="show", description="What I remember about you, with ids")
    @app_commands.describe(scope="Show only part of it")
    async def show(
        self,
        interaction: Interaction,
        scope: str = "all",
    ) -> None:
        shown: ShowScope = scope.strip().lower() or "all"
        user = caller(interaction)
        result = await self.engine.run_command(user, MemoryCommand("show", scope=shown))
        assert isinstance(result, ShowResult)
        view = show_view(interaction.user.id, result, shown)
        sent = await interaction.followup.send(
            embed=render_show(result), view=view, ephemeral=True, wait=True
        )
        if result.still_learning:
            refresh = self._refresh(sent, user, interaction.user.id, shown)
            task = asyncio.get_running_loop().create_task(refresh)
            self._refreshing.add(task)
            task.add_done_callback(self._refreshing.discard)

    @show.autocomplete("scope")
    async def show_scopes(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        # The kinds this bot remembers (memory.kinds), which configuration decides.
        names = ("all", *self.engine.kinds.names)
        needle = current.strip().lower()
        return [app_commands.Choice(name=n, value=n) for n in names if needle in n][:MAX_CHOICES]

    async def _refresh(
        self, sent: discord.WebhookMessage, user: UserRef, owner_id: int, scope: ShowScope
    ) -> None:
        """Edit a list read while learning was still running, once that learning is done."""
        try:
            await self.engine.learn_now(user.key)
            fresh = await current(self.engine, user, scope)
            await sent.edit(embed=render_show(fresh), view=show_view(owner_id, fresh, scope))
        except Exception:
            log.exception("refreshing a /memory show answer failed", extra={"user": user.key})

    @app_commands.command(name="forget", description="Forget one thing, by its id")
    @app_commands.rename(item_id="id")
    @app_commands.describe(item_id="The id from /memory show (start typing to search)")
    async def forget(self, interaction: Interaction, item_id: str) -> None:
        item = await _item_id(interaction, item_id)
        if item is None:
            return
        user = caller(interaction)
        result = await self.engine.run_command(user, MemoryCommand("forget", item_id=item))
        await answer_privately(interaction, embed=render_result(result))

    @forget.autocomplete("item_id")
    async def forget_choices(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        # Only the caller's own memory is read, so nobody can discover another person's ids.
        command = MemoryCommand("show", fresh=False)
        result = await self.engine.run_command(caller(interaction), command)
        assert isinstance(result, ShowResult)
        needle = current.strip().lower()
        choices = []
        for item in result.items:
            if needle in item.id or needle in item.text.lower():
                label = clip(f"{item.id} · {item.text}", 100)
                choices.append(app_commands.Choice(name=label, value=item.id))
        return choices[:MAX_CHOICES]

    @app_commands.command(name="forget-all", description="Forget everything about you (asks first)")
    async def forget_all(self, interaction: Interaction) -> None:
        user = caller(interaction)
        result = await self.engine.run_command(user, MemoryCommand("forget_all"))
        assert isinstance(result, ConfirmForgetAll)
        view = confirm_view(interaction.user.id)
        await interaction.followup.send(embed=render_result(result), view=view, ephemeral=True)

    @app_commands.command(name="correct", description="Correct what I remember about you")
    @app_commands.describe(text="What is true now, e.g. 'I moved to Lisbon'")
    async def correct(
        self, interaction: Interaction, text: app_commands.Range[str, 1, MAX_COMMAND_CHARS]
    ) -> None:
        result = await self._run(interaction, MemoryCommand("correct", text=text))
        await answer_privately(interaction, embed=render_result(result))

    @app_commands.command(name="export", description="Everything I remember about you, as JSON")
    async def export(self, interaction: Interaction) -> None:
        result = await self.engine.run_command(caller(interaction), MemoryCommand("export"))
        assert isinstance(result, ExportResult)
        content, file = render_export(result)
        await interaction.followup.send(content, file=file, ephemeral=True)

    @app_commands.command(name="why", description="Where and when I learned something")
    @app_commands.rename(item_id="id")
    @app_commands.describe(item_id="The id from /memory show")
    async def why(self, interaction: Interaction, item_id: str) -> None:
        item = await _item_id(interaction, item_id)
        if item is None:
            return
        result = await self._run(interaction, MemoryCommand("why", item_id=item))
        await answer_privately(interaction, embed=render_result(result))

    @app_commands.command(name="history", description="What changed in your memory, and why")
    async def history(self, interaction: Interaction) -> None:
        result = await self._run(interaction, MemoryCommand("history"))
        await answer_privately(interaction, embed=render_result(result))

    @app_commands.command(name="undo", description="Take back what I just learned")
    async def undo(self, interaction: Interaction) -> None:
        result = await self._run(interaction, MemoryCommand("undo"))
        await answer_privately(interaction, embed=render_result(result))

    @app_commands.command(name="pause", description="Stop learning from your messages")
    async def pause(self, interaction: Interaction) -> None:
        result = await self.engine.run_command(caller(interaction), MemoryCommand("pause"))
        await answer_privately(interaction, embed=render_result(result))

    @app_commands.command(name="resume", description="Start learning from your messages again")
    async def resume(self, interaction: Interaction) -> None:
        result = await self.engine.run_command(caller(interaction), MemoryCommand("resume"))
        await answer_privately(interaction, embed=render_result(result))

    @app_commands.command(name="link", description="Join your accounts on Slack and Discord")
    @app_commands.describe(code="The code /memory link gave you on your other platform")
    async def link(
        self, interaction: Interaction, code: app_commands.Range[str, 1, 40] | None = None
    ) -> None:
        command = parse_command(f"link {code}" if code else "link")
        result = await self.engine.run_command(caller(interaction), command)
        await answer_privately(interaction, embed=render_result(result))

    @app_commands.command(name="unlink", description="Separate your account on one platform")
    @app_commands.describe(platform="Its account starts again with an empty memory")
    async def unlink(
        self, interaction: Interaction, platform: Literal["slack", "discord", "console"]
    ) -> None:
        command = MemoryCommand("unlink", text=platform)
        result = await self.engine.run_command(caller(interaction), command)
        await answer_privately(interaction, embed=render_result(result))

    @app_commands.command(name="help", description="What /memory can do")
    async def help(self, interaction: Interaction) -> None:
        await answer_privately(interaction, embed=render_help())


async def _item_id(interaction: Interaction, typed: str) -> str | None:
    """The item id typed, or None after telling the person it is not one."""
    item = typed.strip().lower()
    if ITEM_ID.match(item):
        return item
    await answer_privately(
        interaction,
        f"`{clip(typed, 40)}` is not a memory id. Ids look like `f3k9q`; "
        "`/memory show` lists yours.",
    )
    return None
