"""Private (ephemeral) answers to interactions, whether or not they were already acknowledged."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from memory import CommandError

log = logging.getLogger(__name__)

Interaction = discord.Interaction[discord.Client]

SORRY = "Sorry, something went wrong on my side. Please try again in a moment."


async def answer_privately(
    interaction: Interaction,
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
) -> None:
    """An ephemeral message: the initial response if there is none yet, else a followup."""
    if interaction.response.is_done():
        if embed is None:
            await interaction.followup.send(content or "", ephemeral=True)
        else:
            await interaction.followup.send(content or "", embed=embed, ephemeral=True)
    elif embed is None:
        await interaction.response.send_message(content, ephemeral=True)
    else:
        await interaction.response.send_message(content, embed=embed, ephemeral=True)


def unwrap(error: BaseException) -> BaseException:
    """The exception a command or button raised, without discord.py's wrappers."""
    if isinstance(error, app_commands.CommandInvokeError):
        return error.original
    return error


async def answer_error(interaction: Interaction, error: BaseException) -> None:
    """Say why a command failed (a CommandError's message), or a short apology; log the rest."""
    original = unwrap(error)
    if isinstance(original, CommandError):
        text = original.message
    elif isinstance(original, app_commands.CheckFailure):
        text = "You can't use that here."
    else:
        name = interaction.command.qualified_name if interaction.command else "component"
        # The exception type and command name only: never tokens or what the person wrote.
        log.error(
            "discord interaction failed: %s in %s",
            type(original).__name__,
            name,
            exc_info=original,
            extra={"user": f"discord:{interaction.user.id}"},
        )
        text = SORRY
    try:
        await answer_privately(interaction, text)
    except discord.HTTPException as exc:
        log.warning("could not tell the user about an error: HTTP %s", exc.status)
