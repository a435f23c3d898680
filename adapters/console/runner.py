"""The console runner: reads lines (a terminal or a pipe), answers, and learns before exit.

SIGTERM or SIGINT stops reading; the line being answered is finished and learned first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shlex
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import TextIO

from adapters.console.normalize import (
    console_conversation,
    console_user,
    is_memory_command,
    to_chat_message,
    to_memory_command,
)
from memory import (
    UNOPENABLE,
    CommandError,
    KeyUnavailable,
    MemoryChanged,
    MemoryCommand,
    MemoryEngine,
    ShowResult,
    UserMemory,
    saved_line,
)

PROMPT = "you> "

log = logging.getLogger(__name__)


def notice_line(changed: MemoryChanged) -> str:
    """`(remembered: location: Lisbon — /memory undo)`, `(memory updated: removed I keep bees —
    /memory undo)`; a removal the person asked for is final, so it has no undo."""
    if changed.undoable:
        return f"({changed.verb.lower()}: {changed.summary()} — /memory undo)"
    return f"({changed.summary()})"


def updated_line(shown: ShowResult, fresh: ShowResult, undoable: bool) -> str:
    """What changed between a list printed while learning was still running (`shown`) and the
    same list once it finished (`fresh`): `(memory updated: I keep bees; removed I play chess —
    /memory undo)`, at most three changes named; `(done learning: nothing changed)` when none.
    `undoable`: the learning that finished can be undone."""
    was = {view.id: view.text for view in shown.everything}
    now = {view.id: view.text for view in fresh.everything}
    parts = [text for key, text in now.items() if was.get(key) != text]
    parts += [f"removed {text}" for key, text in was.items() if key not in now]
    if not parts:
        return "(done learning: nothing changed)"
    named = "; ".join(parts[:3]) + (f" (+{len(parts) - 3} more)" if len(parts) > 3 else "")
    return f"(memory updated: {named}{' — /memory undo' if undoable else ''})"


def _read_lines(stdin: TextIO, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines from a daemon thread, so a blocked read never holds up shutdown."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in iter(stdin.readline, ""):
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    return queue


class _Terminal:
    """Lines typed at a terminal, with line editing (arrow keys, history) from the standard
    library's readline: `input()` uses it once it is imported. No dependency is added for
    this; prompt_toolkit would bring its own event loop integration for no gain here. The
    reading thread asks for the next line only when the bot is ready for it, so the prompt
    appears after the answer, not under it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        with contextlib.suppress(ImportError):  # absent on some builds: plain input() then
            import readline  # noqa: F401
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._want = threading.Semaphore(0)
        self._loop = loop
        threading.Thread(target=self._pump, name="console-tty", daemon=True).start()

    def ask(self) -> None:
        self._want.release()

    def _pump(self) -> None:
        while True:
            self._want.acquire()
            try:
                line: str | None = input(PROMPT) + "\n"
            except EOFError:
                line = None
            self._loop.call_soon_threadsafe(self.queue.put_nowait, line)
            if line is None:
                return


async def run_console(
    engine: MemoryEngine,
    user_name: str,
    session: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    storage: str | None = None,
    notices: str = "message",
) -> None:
    """Chat on `stdin`/`stdout` as `user_name` in `session` until end of input or a signal.

    `storage` (e.g. "SQLite in /home/al/bot/data") is named in the banner, so a person who
    starts the bot from another directory sees which memory they are talking to. `notices`
    is MEMORY_NOTICES: "message" prints a line when memory changes; a terminal has no
    reactions, so "reaction" and "off" print none."""
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

    resume = f"bot chat --user {shlex.quote(user_name)} --resume {session}"
    show(
        f"Chatting as {user.name} (session {session}: `{resume}` continues it)."
        " Type /memory help for your memory, Ctrl-D to quit."
    )
    if storage:
        show(f"Memory: {storage}.")
    before = await _memory_or_none(engine, user.key)
    if before is None:
        show(UNOPENABLE)
    started = datetime.now(UTC)

    # Notices that arrive while /memory show runs are held, and printed before its list; when
    # the list says it is still learning, they are held until that learning is done, and one
    # line says what changed (a terminal cannot edit what it printed, as Slack and Discord do).
    held: list[MemoryChanged] | None = None
    refreshing: set[asyncio.Task[None]] = set()

    async def noticed(changed: MemoryChanged) -> None:
        if changed.user_key != user.key:
            return
        if held is not None:
            held.append(changed)
        else:
            show(notice_line(changed))

    def release() -> None:
        nonlocal held
        waiting, held = held or [], None
        for changed in waiting:
            show(notice_line(changed))

    async def refresh(command: MemoryCommand, shown: ShowResult) -> None:
        nonlocal held
        try:
            await engine.learn_now(user.key)
            fresh = await engine.run_command(user, command, conversation)
        except Exception:
            log.exception("refreshing a /memory show answer failed", extra={"user": user.key})
            release()
            return
        waiting, held = held or [], None
        if isinstance(fresh, ShowResult):
            show(updated_line(shown, fresh, any(n.undoable for n in waiting)))

    if notices == "message":
        engine.on_changed(noticed)
    terminal = _Terminal(loop) if interactive and stdin is sys.stdin else None
    lines = terminal.queue if terminal else _read_lines(stdin, loop)
    number = 0
    run = secrets.token_hex(3)
    while not stopping.is_set():
        if terminal:
            terminal.ask()
        elif interactive:
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
                command = to_memory_command(line)
            except CommandError as exc:
                show(exc.message)
                continue
            # A show holds notices, unless one still waiting for learning holds them already.
            holds = command.action == "show" and held is None
            if holds:
                held = []
            try:
                result = await engine.run_command(user, command, conversation)
            except CommandError as exc:
                if holds:
                    release()
                show(exc.message)
                continue
            later = isinstance(result, ShowResult) and result.still_learning > 0
            if holds and not later:
                release()
            show(result.as_text())
            if holds and later and isinstance(result, ShowResult):
                task = loop.create_task(refresh(command, result))
                refreshing.add(task)
                task.add_done_callback(refreshing.discard)
            continue
        reply = await engine.reply(to_chat_message(line, user, conversation, number, run))
        show(f"bot> {reply.text}")
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signum)
    await engine.flush()
    if refreshing:
        await asyncio.gather(*refreshing)
    after = await _memory_or_none(engine, user.key)
    if before is not None and after is not None:
        # The entries written during this session: they tell corrections from learning.
        written = [e for e in await engine.history(user.key) if e.at >= started]
        show(saved_line(before, after, written))


async def _memory_or_none(engine: MemoryEngine, user_key: str) -> UserMemory | None:
    """The person's memory; None when it is sealed with a key this process does not hold (the
    log gets one line naming the key; replies apologize and /memory commands say so)."""
    try:
        return await engine.memory(user_key)
    except KeyUnavailable as exc:
        log.error("memory cannot be opened: %s", exc, extra={"user": user_key})
        return None
