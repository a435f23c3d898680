"""A local fake of Slack for tests: the Web API, file uploads, response_url and Socket Mode.

Point the real slack-sdk / slack-bolt clients at it::

    async with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        ...
        call = await slack.wait_for_call("chat.postMessage", channel="C1")

Every Web API call is recorded as a `Call`, whatever its encoding (JSON body, form body or
GET query; the query string is merged in too, because the SDK sends `params=` of a POST
there). Form and query values stay strings, JSON values keep their types.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
APP_ID = "A1"

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One Web API call: the method name, its arguments and the token it carried."""

    method: str
    args: JsonDict
    token: str | None = None


@dataclass(frozen=True)
class ResponseUrlPost:
    """One POST to a fake response_url (what bolt's `respond()` sends)."""

    name: str
    body: JsonDict


@dataclass
class Upload:
    """A file uploaded through files.getUploadURLExternal and its upload URL."""

    file_id: str
    filename: str
    content: bytes | None = None


@dataclass(frozen=True)
class _Failure:
    error: str
    status: int
    retry_after: int


@dataclass(eq=False)
class FakeSlack:
    """Slack's Web API, upload URLs, response URLs and a Socket Mode websocket on 127.0.0.1."""

    team_id: str = "T1"
    team: str = "Fake Team"
    users: dict[str, JsonDict] = field(default_factory=dict)
    threads: dict[tuple[str, str], list[JsonDict]] = field(default_factory=dict)

    calls: list[Call] = field(default_factory=list, init=False)
    responses: list[ResponseUrlPost] = field(default_factory=list, init=False)
    uploads: dict[str, Upload] = field(default_factory=dict, init=False)
    acks: list[JsonDict] = field(default_factory=list, init=False)

    _port: int = field(default=0, init=False)
    _runner: web.AppRunner | None = field(default=None, init=False)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition, init=False)
    _failures: dict[str, deque[_Failure]] = field(default_factory=dict, init=False)
    _sockets: list[web.WebSocketResponse] = field(default_factory=list, init=False)
    _pending_acks: dict[str, asyncio.Future[JsonDict]] = field(default_factory=dict, init=False)
    _counter: int = field(default=0, init=False)

    # ---- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for ws in list(self._sockets):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

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
        queue.extend(_Failure(error, status, retry_after) for _ in range(times))

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

    async def _wait(self, ready: Callable[[], bool], seconds: float, what: str) -> None:
        try:
            async with asyncio.timeout(seconds):
                async with self._changed:
                    await self._changed.wait_for(ready)
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
        async with self._changed:
            self._changed.notify_all()

    def _next_ts(self) -> str:
        self._counter += 1
        return f"{1_700_000_000 + self._counter}.000100"

    # ---- Socket Mode -----------------------------------------------------------------------

    async def send_socket_envelope(
        self,
        type_: str,
        payload: JsonDict,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> JsonDict | None:
        """Send an envelope on the open Socket Mode connection; return the ack's payload.

        type_ is "events_api" (payload: an event_callback envelope), "slash_commands"
        (payload: the slash command fields) or "interactive" (payload: e.g. block_actions).
        Bolt acks only when a listener matched; otherwise this times out.
        """
        await self._wait(lambda: bool(self._sockets), timeout, "a Socket Mode connection")
        envelope_id = str(uuid.uuid4())
        future: asyncio.Future[JsonDict] = asyncio.get_running_loop().create_future()
        self._pending_acks[envelope_id] = future
        envelope: JsonDict = {
            "envelope_id": envelope_id,
            "type": type_,
            "payload": payload,
            "accepts_response_payload": type_ != "events_api",
        }
        if type_ == "events_api":  # Slack sends retry fields (0 and "" at first) only here
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        try:
            await self._sockets[-1].send_json(envelope)
            async with asyncio.timeout(timeout):
                ack = await future
        except TimeoutError:
            raise AssertionError(
                f"FakeSlack: no ack within {timeout}s for {type_} envelope {envelope_id}"
            ) from None
        finally:
            del self._pending_acks[envelope_id]
        body = ack.get("payload")
        return body if isinstance(body, dict) else None

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets) + 1,
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._sockets.append(ws)
        await self._notify()
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if not isinstance(data, dict):
                    continue
                self.acks.append(data)
                future = self._pending_acks.get(str(data.get("envelope_id")))
                if future is not None and not future.done():
                    future.set_result(data)
                await self._notify()
        finally:
            self._sockets.remove(ws)
        return ws

    # ---- HTTP handlers ---------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args, token = await _read_args(request)
        self.calls.append(Call(method, args, token))
        await self._notify()

        failures = self._failures.get(method)
        if failures:
            failure = failures.popleft()
            headers = {}
            if failure.status == 429:
                headers["Retry-After"] = str(failure.retry_after)
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )
        handler = self._handlers().get(method)
        body = handler(args) if handler else {"ok": False, "error": "unknown_method"}
        return web.json_response(body)

    def _handlers(self) -> dict[str, Callable[[JsonDict], JsonDict]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": lambda a: {"ok": True, "message_ts": self._next_ts()},
            "chat.update": self._update,
            "reactions.add": lambda a: {"ok": True},
            "users.info": self._users_info,
            "conversations.replies": self._replies,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "apps.connections.open": lambda a: {"ok": True, "url": self.socket_url},
        }

    def _auth_test(self, args: JsonDict) -> JsonDict:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": self.team,
            "user": "memorybot",
            "team_id": self.team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, args: JsonDict) -> JsonDict:
        ts = self._next_ts()
        message: JsonDict = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": args.get("text", ""),
            "ts": ts,
        }
        for key in ("thread_ts", "blocks"):
            if key in args:
                message[key] = args[key]
        return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": message}

    def _update(self, args: JsonDict) -> JsonDict:
        text = args.get("text", "")
        return {
            "ok": True,
            "channel": args.get("channel"),
            "ts": args.get("ts"),
            "text": text,
            "message": {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": text},
        }

    def _users_info(self, args: JsonDict) -> JsonDict:
        user = self.users.get(str(args.get("user")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _replies(self, args: JsonDict) -> JsonDict:
        messages = self.threads.get((str(args.get("channel")), str(args.get("ts"))))
        if messages is None:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": messages, "has_more": False}

    def _views_publish(self, args: JsonDict) -> JsonDict:
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        view = dict(view) if isinstance(view, dict) else {}
        view.update({"id": f"V{self._next_ts().replace('.', '')}", "team_id": self.team_id})
        return {"ok": True, "view": view}

    def _get_upload_url(self, args: JsonDict) -> JsonDict:
        file_id = f"F{len(self.uploads) + 1:08d}"
        self.uploads[file_id] = Upload(file_id, str(args.get("filename", "")))
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: JsonDict) -> JsonDict:
        raw = args.get("files", "[]")
        files = json.loads(raw) if isinstance(raw, str) else raw
        out = []
        for f in files:
            upload = self.uploads.get(f.get("id", ""))
            if upload is None or upload.content is None:
                return {"ok": False, "error": "file_not_found"}
            out.append({"id": upload.file_id, "name": upload.filename, "title": f.get("title")})
        return {"ok": True, "files": out}

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="file_not_found")
        upload.content = await request.read()
        await self._notify()
        return web.Response(text=f"OK - {len(upload.content)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append(ResponseUrlPost(request.match_info["name"], body))
        await self._notify()
        return web.Response(text="ok")


async def _read_args(request: web.Request) -> tuple[JsonDict, str | None]:
    args: JsonDict = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        else:
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
    token = args.pop("token", None)
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        token = auth.removeprefix("Bearer ")
    return args, token


# ---- helpers for HTTP mode (Events API, slash commands, interactivity) -----------------------


def sign_request(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The X-Slack-Signature / X-Slack-Request-Timestamp headers for exactly `body`."""
    ts = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{ts}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def event_envelope(event: JsonDict, team_id: str = "T1", event_id: str | None = None) -> JsonDict:
    """An Events API `event_callback` envelope around `event`, addressed to the bot."""
    return {
        "token": "legacy-verification-token",
        "type": "event_callback",
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team_id, "user_id": BOT_USER_ID, "is_bot": True}],
        "event": event,
    }


def app_mention_event(
    text: str,
    user: str = "U1",
    channel: str = "C1",
    ts: str = "1699999999.000100",
    thread_ts: str | None = None,
    team: str = "T1",
) -> JsonDict:
    """An `app_mention` event; `text` should contain `<@UBOT>`."""
    event: JsonDict = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": team,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def dm_event(
    text: str, user: str = "U1", channel: str = "D1", ts: str = "1699999999.000200"
) -> JsonDict:
    """A direct-message `message` event (channel_type "im")."""
    return {
        "type": "message",
        "channel_type": "im",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }


def slash_command_form(
    text: str,
    user_id: str,
    team_id: str,
    channel_id: str,
    response_url: str,
    command: str = "/memory",
) -> bytes:
    """A url-encoded slash command body, as Slack POSTs it."""
    return urlencode(
        slash_command_fields(text, user_id, team_id, channel_id, response_url, command)
    ).encode()


def slash_command_fields(
    text: str,
    user_id: str,
    team_id: str,
    channel_id: str,
    response_url: str,
    command: str = "/memory",
) -> dict[str, str]:
    """The slash command fields (the Socket Mode `slash_commands` payload is this dict)."""
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "response_url": response_url,
        "trigger_id": f"trig.{uuid.uuid4().hex[:12]}",
    }


def block_actions_form(payload: JsonDict) -> bytes:
    """A url-encoded interactivity body: `payload=<json>`."""
    return urlencode({"payload": json.dumps(payload)}).encode()


class HttpReply(NamedTuple):
    """Status and body of the app's answer to a signed request."""

    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    secret: str,
    content_type: str = "application/json",
    timestamp: int | None = None,
) -> HttpReply:
    """POST `body` to the app at `url`, signed with `secret` as Slack signs it."""
    headers = {"Content-Type": content_type, **sign_request(secret, body, timestamp)}
    async with session.post(url, data=body, headers=headers) as resp:
        return HttpReply(resp.status, await resp.text())
