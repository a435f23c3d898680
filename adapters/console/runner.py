"""The console runner: reads lines (a terminal or a pipe), answers, and learns before exit.

SIGTERM or SIGINT stops reading; the line being answered is finished and learned first.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import sys
import threading
from typing import TextIO

from adapters.console.normalize import (
    console_conversation,
    console_user,
    is_memory_command,
    to_chat_message,
    to_memory_command,
)
from memory.changesets import MemoryChanged
from memory.engine import MemoryEngine
from memory.errors import CommandError
from memory.saved import saved_line

PROMPT = "you> "


def notice_line(changed: MemoryChanged) -> str:
    """`(remembered: location: Lisbon — /memory undo)`; a removal the person asked for is final."""
    if changed.undoable:
        return f"(remembered: {changed.summary()} — /memory undo)"
    return f"({changed.summary()})"


def _read_lines(stdin: TextIO, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines from a daemon thread, so a blocked read never holds up shutdown."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in iter(stdin.readline, ""):
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    return queue


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
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stopping.set)

    def show(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    show(
        f"Chatting as {user.name} (session {session}: `bot chat --resume {session}` continues it)."
        " Type /memory help for your memory, Ctrl-D to quit."
    )
    before = await engine.repository.load(user.key)

    async def noticed(changed: MemoryChanged) -> None:
        if changed.user_key == user.key:
            show(notice_line(changed))

    engine.on_changed(noticed)
    lines = _read_lines(stdin, loop)
    number = 0
    run = secrets.token_hex(3)
    while not stopping.is_set():
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        next_line = asyncio.ensure_future(lines.get())
        stop = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({next_line, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not next_line.done():
            next_line.cancel()
            break
        line = next_line.result()
        if line is None:
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
        reply = await engine.reply(to_chat_message(line, user, conversation, number, run))
        show(f"bot> {reply.text}")
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signum)
    await engine.flush()
    show(saved_line(before, await engine.repository.load(user.key)))
