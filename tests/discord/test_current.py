"""/memory show on Discord is current: it learns what is pending for the caller first."""

from __future__ import annotations

from tests.discord.conftest import Chat
from tests.discord.test_memory_commands import ask, embed_text


async def test_show_right_after_telling_lists_the_new_memory(chat: Chat) -> None:
    await chat.dm("Remember that I keep bees.")  # answered; learning not run by the test

    text = embed_text(await ask(chat, "show", guild=False))
    assert "I keep bees" in text and "don't remember anything" not in text
