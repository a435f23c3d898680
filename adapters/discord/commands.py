"""The /memory slash command group: every answer is private to the person who asked.

Every command is deferred (ephemeral, "thinking") before it runs, by `DeferringTree`, so the
first response is in within Discord's 3 seconds whatever the person's lock or the model are
doing; the answer follows as a followup (valid for 15 minutes)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from adapters.discord.answers import Interaction, answer_privately
from adapters.discord.normalize import conversation_ref, user_ref
from adapters.discord.render import clip, render_export, render_result, render_show
from adapters.discord.views import confirm_view, show_view
from adapters.discord.views import shown as current
from memory import (
    MAX_COMMAND_CHARS,
    VERB,
    CommandResult,
    ConfirmForgetAll,
    ConversationRef,
    ExportResult,
    InFlight,
    MemoryCommand,
    MemoryEngine,
    PlatformName,
    ShowResult,
    ShowScope,
    UserRef,
    memory_id,
    parse_command,
)

log = logging.getLogger(__name__)

MAX_CHOICES = 25  # Discord's limit for autocomplete answers
# Posts a result's own view (a list, a question, a file); False when it has none for it.
Special = Callable[[CommandResult], Awaitable[bool]]


def caller(interaction: Interaction) -> UserRef:
    """The account that used the interaction, as a core UserRef (its display name for the model)."""
    return user_ref(interaction.user.id, interaction.user.display_name)


def where(interaction: Interaction) -> ConversationRef | None:
    """The conversation the interaction was used in (a DM, a server channel or a thread), or None
    when Discord gives no channel."""
    if interaction.channel_id is None:
        return None
    return conversation_ref(interaction.guild_id, interaction.channel_id)


class DeferringTree(app_commands.CommandTree[discord.Client]):
    """A command tree that acknowledges each slash command before running it."""

    async def interaction_check(self, interaction: Interaction, /) -> bool:
        """Defer every slash command (ephemeral, "thinking") before it runs, so Discord has its
        first response within 3 seconds (https://discord.com/developers/docs/interactions/receiving-
        and-responding#responding-to-an-interaction); always True (every command may run)."""
        if (
            interaction.type is discord.InteractionType.application_command
            and not interaction.response.is_done()
        ):
            await interaction.response.defer(ephemeral=True, thinking=True)
        return True


class MemoryCommands(app_commands.Group):
    """`/memory <verb>`: one subcommand per verb of memory.commands.verbs.VERBS, named and described
    there (tests check the two agree)."""

    def __init__(self, engine: MemoryEngine, in_flight: InFlight | None = None) -> None:
        super().__init__(
            name="memory", description="See, correct and erase what the bot remembers about you"
        )
        self.engine = engine
        # Held while a command runs and its answer is posted (shutdown waits on it).
        self.in_flight = in_flight or InFlight()
        self._refreshing: set[asyncio.Task[None]] = set()

    async def _run(self, interaction: Interaction, command: MemoryCommand) -> CommandResult:
        return await self.engine.run_command(caller(interaction), command, where(interaction))

    async def _answer(
        self, interaction: Interaction, command: MemoryCommand, special: Special | None = None
    ) -> None:
        """Run `command` and post the answer: `special`'s view when it posts one (returns
        True), else the result's embed. In flight until posted (shutdown waits on it)."""
        async with self.in_flight.hold():
            result = await self._run(interaction, command)
            if special is None or not await special(result):
                await answer_privately(interaction, embed=render_result(result))

    @app_commands.command(name="show", description=VERB["show"].help)
    @app_commands.describe(scope=VERB["show"].argument("scope").help)
    async def show(self, interaction: Interaction, scope: str = "all") -> None:
        """`/memory show [scope]`: the person's memory as a paginated embed with Forget and Why
        buttons; refreshed once learning that was running has finished."""
        shown: ShowScope = scope.strip().lower() or "all"

        async def listed(result: CommandResult) -> bool:
            if not isinstance(result, ShowResult):
                return False
            view = show_view(interaction.user.id, result, shown)
            sent = await interaction.followup.send(
                embed=render_show(result), view=view, ephemeral=True, wait=True
            )
            if result.still_learning:
                refresh = self._refresh(sent, caller(interaction), interaction.user.id, shown)
                task = asyncio.get_running_loop().create_task(refresh)
                self._refreshing.add(task)
                task.add_done_callback(self._refreshing.discard)
            return True

        await self._answer(interaction, MemoryCommand("show", scope=shown), listed)

    @show.autocomplete("scope")
    async def show_scopes(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Autocomplete for `show`'s scope: "all" and this bot's kind names containing what was
        typed (at most MAX_CHOICES, Discord's limit of 25)."""
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

    @app_commands.command(name="forget", description=VERB["forget"].help)
    @app_commands.rename(item_id="id")
    @app_commands.describe(item_id=VERB["forget"].argument("id").help)
    async def forget(self, interaction: Interaction, item_id: str) -> None:
        """`/memory forget <id>`: forget one item; an id that cannot be one is refused before
        anything runs."""
        # A CommandError (not an id) is answered by the tree's error handler.
        await self._answer(interaction, MemoryCommand("forget", item_id=memory_id(item_id)))

    @forget.autocomplete("item_id")
    async def forget_choices(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Autocomplete for `forget`'s id: the caller's own items whose id or text contains what was
        typed, as "id · text" (a choice's name is at most 100 characters, and at most 25 choices;
        Discord's limits). Reads what is stored at once (no waiting on learning): Discord gives
        autocomplete 3 seconds."""
        # Only the caller's own memory is read, so nobody can discover another person's ids.
        command = MemoryCommand("show", fresh=False)
        result = await self.engine.run_command(caller(interaction), command)
        if not isinstance(result, ShowResult):
            return []
        needle = current.strip().lower()
        choices = []
        for item in result.items:
            if needle in item.id or needle in item.text.lower():
                label = clip(f"{item.id} · {item.text}", 100)
                choices.append(app_commands.Choice(name=label, value=item.id))
        return choices[:MAX_CHOICES]

    @app_commands.command(name="forget-all", description=VERB["forget-all"].help)
    async def forget_all(self, interaction: Interaction) -> None:
        """`/memory forget-all`: asks first, with Forget everything and Cancel buttons."""

        async def asked(result: CommandResult) -> bool:
            if not isinstance(result, ConfirmForgetAll):
                return False
            view = confirm_view(interaction.user.id)
            await interaction.followup.send(embed=render_result(result), view=view, ephemeral=True)
            return True

        await self._answer(interaction, MemoryCommand("forget_all"), asked)

    @app_commands.command(name="correct", description=VERB["correct"].help)
    @app_commands.describe(text=VERB["correct"].argument("text").help)
    async def correct(
        self, interaction: Interaction, text: app_commands.Range[str, 1, MAX_COMMAND_CHARS]
    ) -> None:
        """`/memory correct <text>`: the person's own correction, at most MAX_COMMAND_CHARS
        characters (Discord enforces the range before the command runs)."""
        await self._answer(interaction, MemoryCommand("correct", text=text))

    @app_commands.command(name="export", description=VERB["export"].help)
    async def export(self, interaction: Interaction) -> None:
        """`/memory export`: everything kept about the person, as a JSON file attached to a private
        answer."""

        async def attached(result: CommandResult) -> bool:
            if not isinstance(result, ExportResult):
                return False
            content, file = render_export(result)
            await interaction.followup.send(content, file=file, ephemeral=True)
            return True

        await self._answer(interaction, MemoryCommand("export"), attached)

    @app_commands.command(name="why", description=VERB["why"].help)
    @app_commands.rename(item_id="id")
    @app_commands.describe(item_id=VERB["why"].argument("id").help)
    async def why(self, interaction: Interaction, item_id: str) -> None:
        """`/memory why <id>`: where an item was learned and how it changed."""
        await self._answer(interaction, MemoryCommand("why", item_id=memory_id(item_id)))

    @app_commands.command(name="history", description=VERB["history"].help)
    async def history(self, interaction: Interaction) -> None:
        """`/memory history`: the recorded changes to the person's memory."""
        await self._answer(interaction, MemoryCommand("history"))

    @app_commands.command(name="undo", description=VERB["undo"].help)
    async def undo(self, interaction: Interaction) -> None:
        """`/memory undo`: take back the most recent thing learning changed."""
        await self._answer(interaction, MemoryCommand("undo"))

    @app_commands.command(name="pause", description=VERB["pause"].help)
    async def pause(self, interaction: Interaction) -> None:
        """`/memory pause`: stop learning from the person's messages (what is known stays)."""
        await self._answer(interaction, MemoryCommand("pause"))

    @app_commands.command(name="resume", description=VERB["resume"].help)
    async def resume(self, interaction: Interaction) -> None:
        """`/memory resume`: learn from the person's messages again."""
        await self._answer(interaction, MemoryCommand("resume"))

    @app_commands.command(name="link", description=VERB["link"].help)
    @app_commands.describe(code=VERB["link"].argument("code").help)
    async def link(
        self, interaction: Interaction, code: app_commands.Range[str, 1, 40] | None = None
    ) -> None:
        """`/memory link [code]`: without a code, a one-time code to use on the person's other
        platform; with one, joins this account to the account that made the code."""
        await self._answer(interaction, parse_command(f"link {code}" if code else "link"))

    @app_commands.command(name="unlink", description=VERB["unlink"].help)
    @app_commands.describe(platform=VERB["unlink"].argument("platform").help)
    async def unlink(self, interaction: Interaction, platform: PlatformName) -> None:
        """`/memory unlink <platform>`: separate this person's account on that platform again."""
        await self._answer(interaction, MemoryCommand("unlink", text=platform))

    @app_commands.command(name="help", description=VERB["help"].help)
    async def help(self, interaction: Interaction) -> None:
        """`/memory help`: every verb with its one-line help."""
        await self._answer(interaction, MemoryCommand("help"))
