"""The Discord client: answers DMs, mentions and replies; serves /memory; reacts when it learned."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import discord
from discord import app_commands

from adapters.discord.answers import Interaction, answer_error
from adapters.discord.catchup import catch_up
from adapters.discord.changes import to_deleted, to_edited
from adapters.discord.commands import DeferringTree, MemoryCommands
from adapters.discord.normalize import (
    PLATFORM,
    from_message,
    parse_message_key,
    split_reply,
    to_chat_message,
)
from adapters.discord.notices import UndoButton, post_notice
from adapters.discord.views import BUTTONS
from memory import (
    BUSY,
    LATE_NOTE,
    TOO_LATE,
    Delivery,
    InboxEntry,
    InFlight,
    Learned,
    MemoryChanged,
    MemoryEngine,
    MessageDeleted,
    MessageEdited,
    change_from_payload,
    change_payload,
)

log = logging.getLogger(__name__)

LEARNED_REACTION = "\N{BRAIN}"
INBOX_PREFIX = "discord:message:"
# Deletes and edits, kept in the inbox until applied (an erasure must survive a crash).
CHANGE_PREFIX = "discord:change:"
# Changes share one lane of the fair queue: they make no model call.
CHANGES_LANE = "discord:changes"
NO_PINGS = discord.AllowedMentions.none()
# The first part of an answer is a reply and may notify its author; nothing else ever pings.
REPLY_PING = discord.AllowedMentions(everyone=False, users=False, roles=False, replied_user=True)


# Exactly what the bot uses: read and answer in channels and threads, reply to a message
# (needs message history), react when it learned. /memory answers are interaction responses,
# which need no channel permission.
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    read_message_history=True,
    add_reactions=True,
)


def invite_url(application_id: int) -> str:
    """The link a server admin opens to add the bot with its slash commands."""
    return discord.utils.oauth_url(
        application_id, permissions=PERMISSIONS, scopes=("bot", "applications.commands")
    )


@dataclass(frozen=True)
class DiscordOptions:
    """How the Discord client runs: `guild_id` syncs /memory to that one server only (for
    development), the shards (`shard_count`, `shard_ids`), whether learned messages get the 🧠
    reaction, how memory changes are announced (`notices`), how long (seconds) to wait for the
    servers at start (`guild_ready_timeout`) and how far back (seconds) to answer what was sent
    while away (`catch_up_seconds`; 0: nothing missed is answered)."""

    guild_id: int | None = None  # sync /memory to this server only (instant, for development)
    # None: one plain connection. N > 0: an AutoShardedClient running N shards in this
    # process. 0: an AutoShardedClient that asks Discord how many shards it needs.
    shard_count: int | None = None
    # With shard_count N > 0: the shards this process runs (the others run elsewhere).
    shard_ids: tuple[int, ...] | None = None
    react_when_learned: bool = True
    # When learning changed someone's memory: a notice with Undo ("message"), only the
    # reaction ("reaction"), or nothing ("off").
    notices: Literal["off", "reaction", "message"] = "message"
    guild_ready_timeout: float = 2.0
    # After a new gateway session, answer DMs and mentions from this many seconds back.
    catch_up_seconds: float = 900.0


def bot_intents() -> discord.Intents:
    """The gateway intents the bot needs: the defaults plus Message Content, which is privileged
    (switched on under Bot > Privileged Gateway Intents in the developer portal; without it Discord
    closes the connection with 4014,
    https://discord.com/developers/docs/events/gateway#privileged-intents)."""
    intents = discord.Intents.default()
    intents.message_content = True  # privileged: switch it on in the developer portal
    return intents


class MemoryBot(discord.Client):
    """The Discord client of the memory bot: answers DMs, mentions and replies to it through the
    delivery inbox (once across processes), applies message deletes and edits to memory, serves the
    /memory commands and their buttons, reacts to and announces what it learned. `in_flight` counts
    what it is still answering or posting (shutdown waits on it)."""

    def __init__(
        self,
        engine: MemoryEngine,
        options: DiscordOptions | None = None,
        delivery: Delivery | None = None,
    ) -> None:
        self.options = options or DiscordOptions()
        self.delivery = delivery or Delivery()
        self._catching_up: asyncio.Task[int] | None = None
        super().__init__(
            intents=bot_intents(),
            allowed_mentions=NO_PINGS,
            guild_ready_timeout=self.options.guild_ready_timeout,
            shard_count=self.options.shard_count or None,
            **self._shard_ids(),
        )
        self.engine = engine
        # Answers, notices and /memory replies being made or posted (shutdown waits on it).
        self.in_flight = InFlight()
        self.tree: app_commands.CommandTree[discord.Client] = DeferringTree(self)
        self.tree.error(self.on_tree_error)
        self.tree.add_command(MemoryCommands(engine, self.in_flight))
        if self.options.react_when_learned and self.options.notices != "off":
            engine.on_learned(self.react_learned)
        self.delivery.watch(INBOX_PREFIX, self.redeliver)
        self.delivery.watch(CHANGE_PREFIX, self.redeliver_change)
        if self.options.notices == "message":
            engine.on_changed(self.notify_changed)

    def _shard_ids(self) -> dict[str, Any]:
        ids = self.options.shard_ids
        return {"shard_ids": list(ids)} if ids else {}

    async def setup_hook(self) -> None:
        """Before the gateway connects (discord.py calls it once after login): register the buttons
        that must work on messages sent by earlier processes, and sync /memory globally or to
        `guild_id`. A failed sync is logged and the bot runs without slash commands."""
        # Buttons on messages sent before this process started work too (Undo included).
        self.add_dynamic_items(*BUTTONS, UndoButton)
        guild_id = self.options.guild_id
        try:
            if guild_id is None:
                synced = await self.tree.sync()
            else:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            # Chat still works without slash commands; say so instead of refusing to start.
            log.error("could not sync /memory commands: HTTP %s %s", exc.status, exc.text)
            return
        scope = "globally" if guild_id is None else f"to server {guild_id}"
        log.info("synced %d application command(s) %s", len(synced), scope)

    async def on_ready(self) -> None:
        """After a new gateway session (not a resumed one): log who the bot is and its invite link,
        and start answering what was sent while it was away (within `catch_up_seconds`)."""
        assert self.user is not None
        log.info(
            "connected to Discord as %s (%s) in %d server(s)",
            self.user,
            self.user.id,
            len(self.guilds),
        )
        if self.application_id is not None:
            log.info("invite link: %s", invite_url(self.application_id))
        # on_ready follows a new session only (a resumed one replays what it missed).
        if self.options.catch_up_seconds > 0:
            self._catching_up = asyncio.get_running_loop().create_task(
                catch_up(
                    self,
                    self.delivery.inbox,
                    INBOX_PREFIX,
                    self.answer,
                    window_seconds=self.options.catch_up_seconds,
                )
            )

    async def on_message(self, message: discord.Message) -> None:
        """Every message the gateway sends: answered when it is addressed to the bot."""
        await self.answer(message, late=None)

    async def answer(self, message: discord.Message, late: float | None) -> bool:
        """Answer `message` once across processes; False if it is not for the bot or taken."""
        async with self.in_flight.hold():
            return await self._answer(message, late)

    async def _answer(self, message: discord.Message, late: float | None) -> bool:
        if self.user is None:
            return False
        chat = to_chat_message(from_message(message), self.user.id)
        if chat is None:
            return False
        key = inbox_key(message.channel.id, message.id)
        payload = {"channel_id": str(message.channel.id), "message_id": str(message.id)}
        try:
            if await self.delivery.record(key, payload) == "done":
                return False
        except Exception as exc:
            # The gateway does not redeliver: answer now even if it cannot be recorded.
            log.warning("could not record Discord message %s: %s", message.id, type(exc).__name__)

        async def answer() -> bool:
            if late is not None and self.delivery.too_late(late):
                await self._send(message, TOO_LATE)
                return True
            log.debug("answering message %s in %s", message.id, chat.conversation.key)
            async with _typing(message.channel):
                reply = await self.engine.reply(chat)
            await self._send(message, reply.text if late is None else f"{LATE_NOTE}\n{reply.text}")
            return True

        async def busy() -> None:
            await message.channel.send(BUSY, allowed_mentions=NO_PINGS)

        return await self.delivery.handle(key, chat.user.key, answer, busy)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """A deleted message, cached or not: what the bot learned from it and its turn in the
        conversation are erased (recorded first, so a failure is retried)."""
        cached = payload.cached_message
        author = cached.author.id if cached is not None and not cached.author.bot else None
        deleted = to_deleted(payload.guild_id, payload.channel_id, [payload.message_id], author)
        await self._apply(deleted, f"delete:{payload.channel_id}:{payload.message_id}")

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        """Messages deleted in bulk (a moderator's purge): each is erased as a single delete is;
        recorded once under a digest of the ids."""
        ids = ",".join(str(i) for i in sorted(payload.message_ids))
        digest = hashlib.sha256(ids.encode()).hexdigest()[:16]
        deleted = to_deleted(payload.guild_id, payload.channel_id, payload.message_ids)
        await self._apply(deleted, f"bulk:{payload.channel_id}:{digest}")

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """An edited message: its stored turn and what was learned from it follow the new text
        (Discord sends other updates, such as embeds appearing, without an `edited_timestamp`; those
        change nothing)."""
        if self.user is None:
            return
        stamp = payload.data.get("edited_timestamp")
        edited = to_edited(from_message(payload.message), self.user.id, edited=bool(stamp))
        await self._apply(edited, f"edit:{payload.channel_id}:{payload.message_id}:{stamp}")

    async def _apply(self, change: MessageDeleted | MessageEdited | None, event: str) -> None:
        """Record a platform delete or edit in the inbox, then apply it once; a change that
        cannot be applied now (the database is away) is applied later, by the recovery of this
        process or another. Never raises."""
        if change is None:
            return
        key = CHANGE_PREFIX + event
        try:
            if await self.delivery.record(key, change_payload(change)) == "done":
                return
        except Exception as exc:
            # The gateway does not redeliver: apply it now even if it cannot be recorded.
            log.warning("could not record a Discord message change: %s", type(exc).__name__)
        await self._handle_change(key, change)

    async def _handle_change(self, key: str, change: MessageDeleted | MessageEdited) -> None:
        async def apply() -> bool:
            try:
                if isinstance(change, MessageDeleted):
                    await self.engine.message_deleted(change)
                else:
                    await self.engine.message_edited(change)
                return True
            except Exception as exc:
                log.warning(
                    "handling a Discord message change failed (%s): it will be retried",
                    type(exc).__name__,
                )
                return False

        await self.delivery.handle(key, CHANGES_LANE, apply, None)

    async def redeliver_change(self, entry: InboxEntry) -> None:
        """A delete or edit recorded and never applied (its process died): apply it now."""
        change = change_from_payload(entry.payload)
        if change is None:
            await self.delivery.inbox.finish(entry.key)
            return
        await self._handle_change(entry.key, change)

    async def redeliver(self, entry: InboxEntry) -> None:
        """An unfinished message from the inbox: fetch it again and answer it, late."""
        ids = _message_ids(entry.payload)
        if ids is None or self.is_closed():
            return
        channel_id, message_id = ids
        try:
            message = await self.get_partial_messageable(channel_id).fetch_message(message_id)
        except discord.NotFound:
            await self.delivery.inbox.finish(entry.key)  # deleted meanwhile: nothing to answer
            return
        await self.answer(message, late=entry.age())

    async def close(self) -> None:
        """Stop catching up, then close the connection (discord.py's close)."""
        if self._catching_up is not None:
            self._catching_up.cancel()
        await super().close()

    async def _send(self, message: discord.Message, text: str) -> None:
        parts = split_reply(text) or ["…"]
        reference = message.to_reference(fail_if_not_exists=False)
        try:
            await message.channel.send(parts[0], reference=reference, allowed_mentions=REPLY_PING)
            for part in parts[1:]:
                await message.channel.send(part, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning(
                "could not send a reply in channel %s: HTTP %s", message.channel.id, exc.status
            )

    async def notify_changed(self, changed: MemoryChanged) -> None:
        """Tell the person privately what learning changed, with an Undo button."""
        if changed.platform == PLATFORM and not self.is_closed():
            async with self.in_flight.hold():
                await post_notice(self, changed)

    async def react_learned(self, learned: Learned) -> None:
        """Mark the message the bot learned from; a missing message or permission is fine."""
        if learned.platform != PLATFORM or self.is_closed():
            return
        ids = parse_message_key(learned.message_id)
        if ids is None:
            return
        channel_id, message_id = ids
        partial = self.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            async with self.in_flight.hold():
                await partial.add_reaction(LEARNED_REACTION)
        except discord.HTTPException as exc:
            log.info("could not react to message %s: HTTP %s", message_id, exc.status)

    async def on_tree_error(
        self, interaction: Interaction, error: app_commands.AppCommandError
    ) -> None:
        """A slash command that raised: the person is told privately (a CommandError's own text,
        else an apology, logged)."""
        await answer_error(interaction, error)


class ShardedMemoryBot(MemoryBot, discord.AutoShardedClient):
    """The same bot on several gateway shards (for bots in many servers)."""


def build_client(
    engine: MemoryEngine, options: DiscordOptions | None = None, delivery: Delivery | None = None
) -> MemoryBot:
    """The bot for these options; `delivery` is shared with the other adapters (durable when
    it is on the bot's database; an in-process one when not given)."""
    options = options or DiscordOptions()
    if options.shard_count is not None:
        return ShardedMemoryBot(engine, options, delivery)
    return MemoryBot(engine, options, delivery)


def inbox_key(channel_id: int, message_id: int) -> str:
    """The inbox key of a Discord message."""
    return f"{INBOX_PREFIX}{channel_id}:{message_id}"


def _message_ids(payload: dict[str, Any] | None) -> tuple[int, int] | None:
    try:
        return int((payload or {})["channel_id"]), int((payload or {})["message_id"])
    except (KeyError, TypeError, ValueError):
        return None


@asynccontextmanager
async def _typing(channel: discord.abc.Messageable) -> AsyncIterator[None]:
    """Show "typing…" while the answer is made; never fail the answer because of it."""
    indicator = channel.typing()
    try:
        await indicator.__aenter__()
    except discord.HTTPException as exc:
        log.debug("typing indicator failed: HTTP %s", exc.status)
        yield
        return
    try:
        yield
    finally:
        await indicator.__aexit__(None, None, None)
