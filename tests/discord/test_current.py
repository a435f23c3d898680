"""/memory show on Discord is current: it learns what is pending for the caller first."""

from __future__ import annotations

from tests.discord.conftest import Chat
from tests.discord.test_memory_commands import assert_private, embed_text


async def test_show_right_after_telling_lists_the_new_memory(chat: Chat) -> None:
    await chat.dm("Remember that I keep bees.")  # answered; learning not run by the test

    _, callback = await chat.command("show", guild=False)

    text = embed_text(assert_private(callback))
    assert "I keep bees" in text and "don't remember anything" not in text
