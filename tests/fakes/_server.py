"""What every fake server shares: serving an aiohttp app on a free port, and waiting on records."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")


async def serve(
    app: web.Application, host: str = "127.0.0.1", **runner_options: Any
) -> tuple[web.AppRunner, int]:
    """Serve app on a free port of host; returns the runner (``cleanup()`` stops it) and port.

    The socket is bound here rather than by aiohttp so that one port is chosen even when host
    names several addresses; ``runner_options`` go to ``web.AppRunner``.
    """
    runner = web.AppRunner(app, **runner_options)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, 0))
        sock.setblocking(False)
        site = web.SockSite(runner, sock)
        await site.start()
    except BaseException:
        sock.close()
        await runner.cleanup()
        raise
    return runner, int(sock.getsockname()[1])


async def notify(changed: asyncio.Condition) -> None:
    """Wake every waiter of changed: something new was recorded."""
    async with changed:
        changed.notify_all()


async def wait_until(changed: asyncio.Condition, check: Callable[[], T], seconds: float) -> T:
    """check()'s first truthy value, checked again on each notify; TimeoutError after seconds."""
    async with asyncio.timeout(seconds):
        async with changed:
            return await changed.wait_for(check)
