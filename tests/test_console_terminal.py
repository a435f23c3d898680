"""`bot chat` at a real terminal (a pseudo-terminal): arrow keys edit the line, log lines stay
off the screen, the banner names the storage and a resume hint that keeps --user."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI
from tests.processes import bot_env
from tests.test_console_e2e import responder

LEFT = "\x1b[D"


class Screen:
    """What the bot wrote to the terminal, read as it comes."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.text = ""
        self.changed = asyncio.Event()
        asyncio.get_running_loop().add_reader(fd, self._read)

    def _read(self) -> None:
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # the bot closed its side
            chunk = b""
        if not chunk:
            asyncio.get_running_loop().remove_reader(self.fd)
        self.text += chunk.decode(errors="replace")
        self.changed.set()

    async def wait_for(self, needle: str, count: int = 1) -> None:
        async with asyncio.timeout(60):
            while self.text.count(needle) < count:
                self.changed.clear()
                await self.changed.wait()

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())


async def test_a_terminal_edits_lines_and_shows_no_log_lines(tmp_path: Path) -> None:
    async with FakeOpenAI(responder) as fake:
        env = {**bot_env(fake.base_url, tmp_path / "data", LOG_LEVEL="INFO"), "TERM": "xterm"}
        primary, secondary = os.openpty()
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "chat", "--user", "Al Smith"),
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
            cwd=tmp_path,
            env=env,
        )
        os.close(secondary)
        screen = Screen(primary)
        try:
            await screen.wait_for("you> ")
            screen.type(f"helo{LEFT}l\r")  # "helo", back one, "l": hello
            await screen.wait_for("bot> ")
            await screen.wait_for("you> ", 2)
            screen.type("\x04")  # Ctrl-D
            await asyncio.wait_for(process.wait(), 60)
        finally:
            asyncio.get_running_loop().remove_reader(primary)
            os.close(primary)

    said = [
        str(m.get("content"))
        for r in fake.requests
        if not r.get("tools")
        for m in r["messages"]
        if m.get("role") == "user"
    ]
    assert any(s.endswith("hello") for s in said), said
    assert not any("\x1b" in s or "[D" in s for s in said)
    assert " INFO " not in screen.text  # e.g. "httpx2: HTTP Request ..." over the prompt
    assert "bot chat --user 'Al Smith' --resume " in screen.text
    assert f"Memory: SQLite in {tmp_path / 'data'}." in screen.text
