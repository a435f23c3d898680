"""The "memory updated" notice on Discord, with an Undo button that survives restarts.

In a DM the notice is a reply to the message learned from; in a server it goes to the
person's DM (a server channel has no message only they can see outside an interaction), and
the 🧠 reaction marks the message. The Undo button is a DynamicItem whose custom_id carries
the owner and the change set, so any process, also after a restart, can carry it out
(discord.py re-creates it from the custom_id; `client.add_dynamic_items(UndoButton)`).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Self

import discord

from adapters.discord.answers import Interaction, answer_privately
from adapters.discord.normalize import PLATFORM, parse_message_key
from adapters.discord.render import clip, render_result
from adapters.discord.views import OwnedButton
from memory import MemoryChanged, MemoryCommand, MemoryEngine

log = logging.getLogger(__name__)

# Discord's limit for a message's content is 2,000 characters.
NOTICE_CHARS = 1800


UNDO_TEMPLATE = r"memory:undo:(?P<owner>[0-9]+):(?P<change>[0-9a-f]{8})"


class UndoButton(OwnedButton, template=UNDO_TEMPLATE):
    """Undo one change set; only its owner may press it (OwnedButton checks, then defers)."""

    def __init__(self, owner_id: int, change_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Undo",
                style=discord.ButtonStyle.secondary,
                custom_id=f"memory:undo:{owner_id}:{change_id}",
            )
        )
        self.owner_id = owner_id
        self.change_id = change_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        """The button again from its custom id (discord.py calls this on a press, anywhere)."""
        return cls(int(match["owner"]), match["change"])

    async def act(self, interaction: Interaction, engine: MemoryEngine) -> None:
        """Undo the change set for its owner; answer privately with what was undone, or why not."""
        result = await engine.run_command(self.owner, MemoryCommand("undo", item_id=self.change_id))
        await answer_privately(interaction, embed=render_result(result))


def notice_text(changed: MemoryChanged) -> str:
    """The notice, "🧠 <verb>: <summary>", cut to NOTICE_CHARS characters (a message's content is at
    most 2,000; https://discord.com/developers/docs/resources/message#create-message)."""
    return clip(f"🧠 {changed.verb}: {changed.summary()}", NOTICE_CHARS)


def notice_view(changed: MemoryChanged, owner_id: int) -> discord.ui.View | None:
    """An Undo button for the notice's owner (a Discord user id), or None when the change cannot be
    undone (the person asked to forget it)."""
    if not changed.undoable or changed.change_set is None:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(UndoButton(owner_id, changed.change_set.id))
    return view


async def post_notice(client: discord.Client, changed: MemoryChanged) -> bool:
    """Reply in the DM, or write to the person's DM for a server message. False on failure."""
    ids = parse_message_key(changed.message_id)
    owner = changed.user_key.rsplit(":", 1)[-1]
    if changed.platform != PLATFORM or ids is None or not owner.isdigit():
        return False
    channel_id, message_id = ids
    owner_id = int(owner)
    text = notice_text(changed)
    view = notice_view(changed, owner_id)
    extra: dict[str, Any] = {"view": view} if view is not None else {}
    try:
        if changed.conversation.startswith(f"{PLATFORM}:dm:"):
            channel = client.get_partial_messageable(channel_id)
            reference = channel.get_partial_message(message_id).to_reference(
                fail_if_not_exists=False
            )
            await channel.send(text, reference=reference, **extra)
        else:
            dm = await client.create_dm(discord.Object(owner_id))
            await dm.send(text, **extra)
    except discord.HTTPException as exc:
        log.info("could not send a memory notice: HTTP %s", exc.status)
        return False
    return True
