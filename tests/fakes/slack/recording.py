"""The fake Slack's state and addresses, its configuration, and waiting for what it records."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .._server import notify, wait_until
from .records import Call, Failure, JsonDict, ResponseUrlPost, Upload


@dataclass(eq=False)
class SlackRecorder:
    """What the Web API and Socket Mode share: users, threads, records, port and waiting."""

    team_id: str = "T1"
    team: str = "Fake Team"
    users: dict[str, JsonDict] = field(default_factory=dict)
    threads: dict[tuple[str, str], list[JsonDict]] = field(default_factory=dict)

    calls: list[Call] = field(default_factory=list, init=False)
    responses: list[ResponseUrlPost] = field(default_factory=list, init=False)
    uploads: dict[str, Upload] = field(default_factory=dict, init=False)
    acks: list[JsonDict] = field(default_factory=list, init=False)
    # Messages refused for breaking a Slack limit (limits.py): "method: error".
    violations: list[str] = field(default_factory=list, init=False)

    _port: int = field(default=0, init=False)
    _runner: web.AppRunner | None = field(default=None, init=False)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition, init=False)
    _failures: dict[str, deque[Failure]] = field(default_factory=dict, init=False)
    _sockets: list[web.WebSocketResponse] = field(default_factory=list, init=False)
    _pending_acks: dict[str, asyncio.Future[JsonDict]] = field(default_factory=dict, init=False)
    _counter: int = field(default=0, init=False)

    # ---- addresses -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:P (no trailing slash)."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL for `AsyncWebClient(base_url=...)`, with its trailing slash."""
        return f"{self.base_url}/api/"

    @property
    def socket_url(self) -> str:
        """The websocket URL that apps.connections.open hands out."""
        return f"ws://127.0.0.1:{self._port}/link"

    def response_url(self, name: str = "default") -> str:
        """A response_url whose POSTs are recorded in `responses` under `name`."""
        return f"{self.base_url}/response/{name}"

    # ---- configuration ---------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        display_name: str | None = None,
    ) -> JsonDict:
        """Add a user that users.info returns; returns the user object."""
        real = real_name if real_name is not None else name.title()
        user: JsonDict = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": real,
            "is_bot": False,
            "deleted": False,
            "profile": {
                "display_name": display_name if display_name is not None else name,
                "real_name": real,
            },
        }
        self.users[user_id] = user
        return user

    def set_thread(self, channel: str, ts: str, messages: list[JsonDict]) -> None:
        """Set what conversations.replies returns for (channel, ts)."""
        self.threads[(channel, ts)] = messages

    def fail_next(
        self,
        method: str,
        error: str = "internal_error",
        *,
        status: int = 200,
        retry_after: int = 0,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail with `error`.

        status=429 answers HTTP 429 with `Retry-After: retry_after` and error "ratelimited".
        """
        if status == 429:
            error = "ratelimited"
        queue = self._failures.setdefault(method, deque())
        queue.extend(Failure(error, status, retry_after) for _ in range(times))

    # ---- inspection and waiting ------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self,
        predicate: Callable[[list[Call]], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper's deadline, by design
    ) -> None:
        """Wait until `predicate(self.calls)` is true; AssertionError listing the calls if not."""
        await self._wait(lambda: predicate(self.calls), timeout, "predicate over calls")

    async def wait_for_call(
        self,
        method: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        **match: Any,
    ) -> Call:
        """Wait for the first call of `method` whose args equal every `match` item."""

        def find() -> Call | None:
            for c in self.calls:
                if c.method == method and all(c.args.get(k) == v for k, v in match.items()):
                    return c
            return None

        await self._wait(lambda: find() is not None, timeout, f"{method} {match}")
        found = find()
        assert found is not None
        return found

    async def wait_for_response(
        self,
        name: str = "default",
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JsonDict:
        """Wait for the first POST to `response_url(name)` and return its JSON body."""

        def find() -> JsonDict | None:
            return next((r.body for r in self.responses if r.name == name), None)

        await self._wait(lambda: find() is not None, timeout, f"POST to response_url {name!r}")
        found = find()
        assert found is not None
        return found

    async def wait_for_responses(
        self,
        name: str,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[JsonDict]:
        """Wait until `count` POSTs reached `response_url(name)`; returns their bodies in order."""

        def found() -> list[JsonDict]:
            return [r.body for r in self.responses if r.name == name]

        await self._wait(lambda: len(found()) >= count, timeout, f"{count} POSTs to {name!r}")
        return found()

    async def _wait(self, ready: Callable[[], bool], seconds: float, what: str) -> None:
        try:
            await wait_until(self._changed, ready, seconds)
        except TimeoutError:
            raise AssertionError(
                f"FakeSlack: timed out after {seconds}s waiting for {what}.\n{self.describe()}"
            ) from None

    def describe(self) -> str:
        """A readable list of everything recorded, for assertion messages."""
        lines = [f"recorded calls ({len(self.calls)}):"]
        lines += [f"  {c.method} {json.dumps(c.args, default=str)}" for c in self.calls]
        lines.append(f"response_url posts ({len(self.responses)}):")
        lines += [f"  {r.name} {json.dumps(r.body, default=str)}" for r in self.responses]
        return "\n".join(lines)

    async def _notify(self) -> None:
        await notify(self._changed)

    def _next_ts(self) -> str:
        self._counter += 1
        return f"{1_700_000_000 + self._counter}.000100"
