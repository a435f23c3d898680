"""Catching up after being away: the DMs and @mentions sent while the bot was not connected.

Discord does not redeliver gateway events. After a fresh session (a start, or a session that
could not be resumed; a resumed one replays what it missed), the bot reads the recent history
of the channels it talks in (DM channels it answered in lately, known from the inbox, and the
servers' text channels it can read), within a bounded window, and answers what is addressed
to it. The inbox makes this exactly once: a message already answered is done there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import discord

from memory import RETENTION_SECONDS, Inbox

log = logging.getLogger(__name__)

Answer = Callable[[discord.Message, float], Awaitable[bool]]
Channel = discord.PartialMessageable | discord.TextChannel


async def catch_up(
    client: discord.Client,
    inbox: Inbox,
    prefix: str,
    answer: Answer,
    *,
    window_seconds: float,
    per_channel: int = 50,
    max_channels: int = 200,
) -> int:
    """Answer messages from the last `window_seconds` in up to `max_channels` channels (at
    most `per_channel` each); returns how many were answered now. `prefix` is the inbox key
    prefix of Discord messages, whose keys are `<prefix><channel id>:<message id>`."""
    since = datetime.fromtimestamp(time.time() - window_seconds, UTC)
    channels = await _channels(client, inbox, prefix, max_channels)
    found: list[discord.Message] = []
    for channel in channels:
        try:
            async for message in channel.history(limit=per_channel, after=since):
                found.append(message)
        except discord.HTTPException as exc:  # no access any more, or deleted
            log.debug("catch-up skipped channel %s: HTTP %s", channel.id, exc.status)
    now = datetime.now(UTC)
    answered = await asyncio.gather(
        *(answer(m, (now - m.created_at).total_seconds()) for m in found), return_exceptions=True
    )
    count = sum(1 for a in answered if a is True)
    for failure in (a for a in answered if isinstance(a, BaseException)):
        log.warning("catch-up answer failed: %s", type(failure).__name__)
    if count:
        log.info("answered %d message(s) sent while disconnected", count)
    return count


async def _channels(client: discord.Client, inbox: Inbox, prefix: str, limit: int) -> list[Channel]:
    """DM channels answered in lately (the inbox keeps a day of keys), then server channels."""
    channels: dict[int, Channel] = {}
    try:
        keys = await inbox.keys_since(prefix, time.time() - RETENTION_SECONDS, limit=10_000)
    except Exception as exc:
        log.warning("catch-up could not read the inbox: %s", type(exc).__name__)
        keys = []
    for key in keys:
        channel_id = key.removeprefix(prefix).split(":", 1)[0]
        if channel_id.isdigit() and len(channels) < limit:
            channels.setdefault(int(channel_id), client.get_partial_messageable(int(channel_id)))
    for guild in client.guilds:
        for text in guild.text_channels:
            if len(channels) >= limit:
                break
            if text.permissions_for(guild.me).read_message_history:
                channels[text.id] = text
    return list(channels.values())
