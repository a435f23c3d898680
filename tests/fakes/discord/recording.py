"""What the fake Discord's REST API and gateway share: its address, its records, and waiting."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

from .._server import notify, wait_until
from .events import EventBuilders
from .ids import API_PREFIX, Json
from .records import Request

T = TypeVar("T")


class Recorder(EventBuilders):
    """Records every REST call and gateway frame, and waits for them on an asyncio.Condition."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Request] = []
        self.gateway_frames: list[Json] = []  # every frame the client sent, heartbeats included
        self.port = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def _notify(self) -> None:
        await notify(self._changed)

    async def _wait(self, check: Callable[[], T | None], seconds: float, what: str) -> T:
        try:
            result = await wait_until(self._changed, check, seconds)
        except TimeoutError:
            message = f"timed out after {seconds}s waiting for {what}\n{self.describe()}"
            raise AssertionError(message) from None
        assert result is not None
        return result

    def describe(self) -> str:
        """The recorded requests and gateway ops, one a line (for failure messages)."""
        lines = [f"recorded requests ({len(self.requests)}):"]
        for r in self.requests:
            files = f" files={[f.filename for f in r.files]}" if r.files else ""
            lines.append(f"  {r.method} {r.path} -> {r.status} {json.dumps(r.json)[:300]}{files}")
        ops = [frame.get("op") for frame in self.gateway_frames]
        lines.append(f"gateway ops received: {ops}")
        return "\n".join(lines)

    async def wait_for(
        self,
        predicate: Callable[[list[Request]], T],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> T:
        """Wait until predicate(requests) is truthy and return its value."""
        return await self._wait(lambda: predicate(self.requests) or None, timeout, "predicate")

    async def wait_for_request(
        self,
        method: str,
        path_regex: str,
        *,
        start: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Request:
        """The first request (from index start) whose method matches and path fullmatches."""
        pattern = re.compile(path_regex)

        def find() -> Request | None:
            for r in self.requests[start:]:
                if r.method == method and pattern.fullmatch(r.path):
                    return r
            return None

        return await self._wait(find, timeout, f"{method} {path_regex}")

    async def wait_for_gateway(
        self,
        op: int,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Json:
        """The count-th gateway frame with this op from the client (2 IDENTIFY, 6 RESUME).

        It returns once the fake has answered it (READY or RESUMED already sent).
        """

        def find() -> Json | None:
            frames = [f for f in self.gateway_frames if f.get("op") == op]
            return frames[count - 1] if len(frames) >= count else None

        return await self._wait(find, timeout, f"gateway op {op} #{count}")
