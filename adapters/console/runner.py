"""The console runner: reads lines (a terminal or a pipe), answers, and learns before exit."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from adapters.console.normalize import (
    console_conversation,
    console_user,
    is_memory_command,
    to_chat_message,
    to_memory_command,
)
from memory.engine import MemoryEngine
from memory.errors import CommandError

PROMPT = "you> "


async def run_console(
    engine: MemoryEngine,
    user_name: str,
    session: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> None:
    user = console_user(user_name)
    conversation = console_conversation(user, session)
    interactive = stdin.isatty()

    def show(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    show(f"Chatting as {user.name}. Type /memory help for your memory, Ctrl-D to quit.")
    number = 0
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        if not line.strip():
            continue
        number += 1
        if is_memory_command(line):
            try:
                result = await engine.run_command(user, to_memory_command(line), conversation)
                show(result.as_text())
            except CommandError as exc:
                show(exc.message)
            continue
        reply = await engine.reply(to_chat_message(line, user, conversation, number))
        show(f"bot> {reply.text}")
    show("Saving what I learned…")
    await engine.flush()
