"""A local fake of Discord (REST API + gateway) for tests that run the real discord.py.

Usage::

    async with FakeDiscord() as fake:
        fake.patch_discord(monkeypatch)          # or: with fake.patched(): ...
        client = MyClient(intents=..., guild_ready_timeout=0.05)
        await client.login(TOKEN)
        task = asyncio.create_task(client.connect(reconnect=False))
        await client.wait_until_ready()
        await fake.dispatch("MESSAGE_CREATE", fake.message_create("hi"))
        reply = await fake.wait_for_request("POST", r"/channels/\\d+/messages")
        await client.close()
        await task

Every REST call is recorded in ``fake.requests`` (paths relative to ``/api/v10``) and every
gateway frame the client sends in ``fake.gateway_frames``. Waiting is done on an
``asyncio.Condition`` that is notified on each new record, never by sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import yarl
from aiohttp import BodyPartReader, WSMsgType, web

if TYPE_CHECKING:
    import pytest

Json = dict[str, Any]
T = TypeVar("T")

TOKEN = "fake-bot-token"
BOT_ID = 1400000000000000001  # the bot's user id
APP_ID = 1400000000000000002  # the application id (differs from BOT_ID on purpose)
OWNER_ID = 1400000000000000003  # owner of the application and of the guild
USER_ID = 1400000000000000004  # "alice", a human member of the guild
OTHER_USER_ID = 1400000000000000005  # "bob", another human member of the guild
GUILD_ID = 1400000000000000010
CHANNEL_ID = 1400000000000000011  # the guild's text channel "#general"

API_PREFIX = "/api/v10"
EPHEMERAL = 64  # message flag
LOADING = 128  # message flag of a deferred ("thinking") response
# discord.Permissions.text() plus view_channel and read_message_history.
MEMBER_PERMISSIONS = "8515152769449024"
# discord.Permissions.all()
APP_PERMISSIONS = "8866461766385663"
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request (``files[0]``...)."""

    field: str
    filename: str
    content: bytes


@dataclass
class Request:
    """One REST call the client made, with the JSON the fake answered."""

    method: str
    path: str  # relative to /api/v10, percent-decoded: "/channels/1/messages"
    json: Any  # the JSON body, or the payload_json part of a multipart body; None if empty
    files: tuple[UploadedFile, ...] = ()
    query: Mapping[str, str] = field(default_factory=dict)
    authorized: bool = False  # an Authorization header was sent
    status: int = 200
    response: Any = None


@dataclass
class _Interaction:
    id: int
    type: int
    channel_id: int
    guild_id: int | None
    message_id: int | None = None  # the message a component belongs to
    responded: bool = False
    original_id: int | None = None  # the message the initial response created


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _json(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": with a charset discord.py reads the body as a string.
    body = json.dumps(data).encode()
    return web.Response(status=status, body=body, content_type="application/json")


def _error(status: int, message: str, code: int) -> web.Response:
    return _json({"message": message, "code": code}, status)


def _no_content() -> web.Response:
    return web.Response(status=204)


def _user(user_id: int, username: str, *, bot: bool = False) -> Json:
    return {
        "id": str(user_id),
        "username": username,
        "discriminator": "0",
        "global_name": None if bot else username.title(),
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def _option(name: str, value: Any, *, focused: bool = False) -> Json:
    kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 10
    if isinstance(value, str):
        kind = 3
    option: Json = {"type": kind, "name": name, "value": value}
    if focused:
        option["focused"] = True
    return option


def custom_ids(message: Json) -> list[str]:
    """All custom_ids of the components of a message payload, depth first."""
    found: list[str] = []

    def walk(components: Iterable[Json]) -> None:
        for component in components:
            if "custom_id" in component:
                found.append(component["custom_id"])
            walk(component.get("components", []))

    walk(message.get("components", []))
    return found


async def _read_body(request: web.Request) -> tuple[Any, tuple[UploadedFile, ...]]:
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        files: list[UploadedFile] = []
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):
                continue
            data = bytes(await part.read())
            if part.name == "payload_json":
                payload = json.loads(data)
            else:
                files.append(UploadedFile(part.name or "", part.filename or "", data))
        return payload, tuple(files)
    raw = await request.read()
    if not raw:
        return None, ()
    try:
        return json.loads(raw), ()
    except ValueError:
        return raw.decode(errors="replace"), ()


Handler = Callable[[Request, re.Match[str]], web.Response]


class FakeDiscord:
    """Discord's REST API under ``/api/v10`` and its gateway at ``/gateway``, on 127.0.0.1."""

    def __init__(self, *, heartbeat_interval_ms: int = 41_250) -> None:
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.requests: list[Request] = []
        self.gateway_frames: list[Json] = []  # every frame the client sent, heartbeats included
        self.users: dict[int, Json] = {}
        self.channels: dict[int, Json] = {}
        self.members: dict[int, Json] = {}  # guild members by user id
        self.messages: dict[int, Json] = {}
        # synced commands by guild id (None: global)
        self.commands: dict[int | None, list[Json]] = {}
        self.session_id: str | None = None
        self.sequence = 0
        self.port = 0
        self._ids = itertools.count(1_400_000_000_000_001_000)
        self._interactions: dict[str, _Interaction] = {}
        self._changed = asyncio.Condition()
        self._send_lock = asyncio.Lock()
        self._sockets: set[web.WebSocketResponse] = set()
        self._live: web.WebSocketResponse | None = None  # identified or resumed
        self._runner: web.AppRunner | None = None
        commands = r"/applications/(?P<app>\d+)(/guilds/(?P<guild>\d+))?/commands"
        reaction = r"/channels/\d+/messages/(?P<message>\d+)/reactions/[^/]+/@me"
        webhook = r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)"
        webhook_message = webhook + r"/messages/(?P<message>@original|\d+)"
        routes: list[tuple[str, str, Handler]] = [
            ("GET", r"/users/@me", self._get_me),
            ("GET", r"/oauth2/applications/@me", self._get_application),
            ("GET", r"/gateway(/bot)?", self._get_gateway),
            ("GET", commands, self._get_commands),
            ("PUT", commands, self._put_commands),
            ("GET", r"/channels/(?P<channel>\d+)", self._get_channel),
            ("POST", r"/channels/(?P<channel>\d+)/messages", self._post_message),
            ("GET", r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)", self._get_message),
            ("POST", r"/channels/(?P<channel>\d+)/typing", self._typing),
            ("PUT", reaction, self._react),
            ("DELETE", reaction, self._react),
            ("POST", r"/users/@me/channels", self._create_dm),
            ("POST", r"/interactions/(?P<id>\d+)/(?P<token>[^/]+)/callback", self._callback),
            ("POST", webhook, self._followup),
            ("GET", webhook_message, self._get_webhook_message),
            ("PATCH", webhook_message, self._edit_webhook_message),
        ]
        self._routes = [(method, re.compile(path), handler) for method, path, handler in routes]
        self.bot_user = self.add_user("memory-bot", user_id=BOT_ID, bot=True, guild_member=True)
        self.add_user("owner", user_id=OWNER_ID)
        self.add_user("alice", user_id=USER_ID, guild_member=True)
        self.add_user("bob", user_id=OTHER_USER_ID, guild_member=True)
        self.channels[CHANNEL_ID] = {
            "id": str(CHANNEL_ID),
            "type": 0,
            "guild_id": str(GUILD_ID),
            "name": "general",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def patch_discord(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point discord.py's REST base and gateway at this fake for the current test."""
        import discord.gateway
        import discord.http

        monkeypatch.setattr(discord.http.Route, "BASE", self.api_base)
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(self.gateway_url)
        )

    @contextmanager
    def patched(self) -> Iterator[None]:
        """Like patch_discord, without pytest: restores the old values on exit."""
        import discord.gateway
        import discord.http

        route, ws = discord.http.Route, discord.gateway.DiscordWebSocket
        old = route.BASE, ws.DEFAULT_GATEWAY
        route.BASE, ws.DEFAULT_GATEWAY = self.api_base, yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            route.BASE, ws.DEFAULT_GATEWAY = old

    # -- world -------------------------------------------------------------------------------

    def snowflake(self) -> int:
        return next(self._ids)

    def add_user(
        self,
        username: str,
        *,
        user_id: int | None = None,
        bot: bool = False,
        guild_member: bool = False,
    ) -> Json:
        """Add a user (optionally a member of the guild); returns the user payload."""
        user = _user(user_id or self.snowflake(), username, bot=bot)
        self.users[int(user["id"])] = user
        if guild_member:
            self.members[int(user["id"])] = {
                "user": user,
                "roles": [],
                "nick": None,
                "joined_at": _now(),
                "deaf": False,
                "mute": False,
                "pending": False,
                "flags": 0,
            }
        return user

    def add_dm_channel(self, user_id: int) -> Json:
        """The DM channel between the bot and a user, created on first use."""
        for channel in self.channels.values():
            if channel["type"] == 1 and channel["recipients"][0]["id"] == str(user_id):
                return channel
        channel = {
            "id": str(self.snowflake()),
            "type": 1,
            "recipients": [self.users[user_id]],
            "last_message_id": None,
            "flags": 0,
        }
        self.channels[int(channel["id"])] = channel
        return channel

    def guild_payload(self) -> Json:
        """The full guild, as GUILD_CREATE sends it."""
        return {
            "id": str(GUILD_ID),
            "name": "Test Guild",
            "icon": None,
            "owner_id": str(OWNER_ID),
            "unavailable": False,
            "large": False,
            "member_count": len(self.members),
            "joined_at": _now(),
            "features": [],
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "afk_timeout": 300,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "roles": [
                {
                    "id": str(GUILD_ID),
                    "name": "@everyone",
                    "color": 0,
                    "hoist": False,
                    "position": 0,
                    "permissions": MEMBER_PERMISSIONS,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "channels": [c for c in self.channels.values() if c.get("guild_id") == str(GUILD_ID)],
            "members": list(self.members.values()),
            "threads": [],
            "emojis": [],
            "stickers": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def application_payload(self) -> Json:
        return {
            "id": str(APP_ID),
            "name": "memory-bot",
            "description": "Remembers each person it talks to.",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.users[OWNER_ID],
            "team": None,
            "verify_key": "0" * 64,
            "flags": 1 << 19,  # GATEWAY_MESSAGE_CONTENT_LIMITED
            "summary": "",
            "bot": self.bot_user,
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": 1,
        }

    # -- payload builders ----------------------------------------------------------------------

    def message_create(
        self,
        content: str,
        author_id: int = USER_ID,
        channel_id: int | None = None,
        guild_id: int | None = None,
        mentions: Sequence[int] = (),
        message_reference: Json | None = None,
    ) -> Json:
        """A MESSAGE_CREATE payload; without channel_id: the author's DM, or #general in a guild.

        With message_reference ({"message_id": ...}) of a message the fake knows, the payload
        carries it as referenced_message, as Discord does for replies.
        """
        if channel_id is None:
            channel_id = CHANNEL_ID if guild_id else int(self.add_dm_channel(author_id)["id"])
        channel = self.channels[channel_id]
        if guild_id is None and "guild_id" in channel:
            guild_id = int(channel["guild_id"])
        message: Json = {
            "id": str(self.snowflake()),
            "channel_id": str(channel_id),
            "author": self.users[author_id],
            "content": content,
            "timestamp": _now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [self._mention(uid, guild_id) for uid in mentions],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        if guild_id is not None:
            message["guild_id"] = str(guild_id)
            message["member"] = self._partial_member(author_id)
        if message_reference is not None:
            ref = {"type": 0, "channel_id": str(channel_id), **message_reference}
            ref = {k: str(v) if k.endswith("_id") else v for k, v in ref.items()}
            message["message_reference"] = ref
            message["type"] = 19
            if int(ref["message_id"]) in self.messages:
                message["referenced_message"] = self.messages[int(ref["message_id"])]
        self.messages[int(message["id"])] = message
        return message

    def interaction_create(
        self,
        command: Sequence[str],
        options: Mapping[str, Any] | None = None,
        user_id: int = USER_ID,
        channel_id: int | None = None,
        guild_id: int | None = None,
    ) -> Json:
        """A chat-input command (type 2); command is its path: ["memory", "show"]."""
        data = self._command_data(command, options, None)
        return self._interaction(2, data, user_id, channel_id, guild_id)

    def autocomplete(
        self,
        command: Sequence[str],
        options: Mapping[str, Any],
        focused: str,
        user_id: int = USER_ID,
        channel_id: int | None = None,
        guild_id: int | None = None,
    ) -> Json:
        """An autocomplete request (type 4) while the user types the option named focused."""
        data = self._command_data(command, options, focused)
        return self._interaction(4, data, user_id, channel_id, guild_id)

    def component_interaction(
        self,
        custom_id: str,
        user_id: int,
        message: Json,
        *,
        component_type: int = 2,
        values: Sequence[str] | None = None,
    ) -> Json:
        """A press on a component (type 3) of message (a payload from fake.messages)."""
        data: Json = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
        guild_id = int(message["guild_id"]) if "guild_id" in message else None
        return self._interaction(3, data, user_id, int(message["channel_id"]), guild_id, message)

    def _mention(self, user_id: int, guild_id: int | None) -> Json:
        mention = dict(self.users[user_id])
        if guild_id is not None and user_id in self.members:
            mention["member"] = self._partial_member(user_id)
        return mention

    def _partial_member(self, user_id: int) -> Json:
        return {k: v for k, v in self.members[user_id].items() if k != "user"}

    def _command_data(
        self, command: Sequence[str], options: Mapping[str, Any] | None, focused: str | None
    ) -> Json:
        name, *subcommands = command
        leaf = [_option(k, v, focused=k == focused) for k, v in (options or {}).items()]
        for depth, sub in reversed(list(enumerate(subcommands))):
            kind = 1 if depth == len(subcommands) - 1 else 2  # subcommand / subcommand group
            leaf = [{"type": kind, "name": sub, "options": leaf}]
        return {"id": str(self.snowflake()), "name": name, "type": 1, "options": leaf}

    def _interaction(
        self,
        kind: int,
        data: Json,
        user_id: int,
        channel_id: int | None,
        guild_id: int | None,
        message: Json | None = None,
    ) -> Json:
        if channel_id is None:
            channel_id = CHANNEL_ID if guild_id else int(self.add_dm_channel(user_id)["id"])
        channel = self.channels[channel_id]
        if guild_id is None and "guild_id" in channel:
            guild_id = int(channel["guild_id"])
        if kind in (2, 4):  # use the id of the synced command, as Discord does
            for scope in (guild_id, None):
                for known in self.commands.get(scope, []):
                    if known["name"] == data["name"] and "guild_id" not in data:
                        data["id"] = known["id"]
                        if scope is not None:
                            data["guild_id"] = str(scope)
        interaction_id = self.snowflake()
        token = f"interaction-{interaction_id}-{secrets.token_hex(8)}"
        payload: Json = {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": kind,
            "token": token,
            "version": 1,
            "data": data,
            "channel_id": str(channel_id),
            "channel": channel,
            "locale": "en-US",
            "app_permissions": APP_PERMISSIONS,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id or 0)},
            "context": 0 if guild_id else 1,  # GUILD / BOT_DM
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = "en-US"
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["member"] = {**self.members[user_id], "permissions": MEMBER_PERMISSIONS}
        else:
            payload["user"] = self.users[user_id]
        if message is not None:
            payload["message"] = message
        message_id = int(message["id"]) if message is not None else None
        self._interactions[token] = _Interaction(
            interaction_id, kind, channel_id, guild_id, message_id
        )
        return payload

    # -- waiting -----------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, check: Callable[[], T | None], seconds: float, what: str) -> T:
        async with self._changed:
            try:
                async with asyncio.timeout(seconds):
                    result = await self._changed.wait_for(check)
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

    # -- gateway -----------------------------------------------------------------------------

    async def dispatch(
        self,
        event: str,
        data: Json,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> int:
        """Send an op 0 event to the connected, identified client; returns its sequence."""
        ws = await self._wait(lambda: self._live, timeout, "a live gateway session")
        return await self._send(ws, 0, data, event)

    async def drop_connection(self, code: int = 4000) -> None:
        """Close the gateway socket as Discord does on an error; discord.py then RESUMEs."""
        ws = self._live
        if ws is None:
            raise AssertionError("no live gateway connection to drop")
        self._live = None
        await ws.close(code=code)

    async def _send(
        self, ws: web.WebSocketResponse, op: int, data: Any, event: str | None = None
    ) -> int:
        async with self._send_lock:
            frame: Json = {"op": op, "d": data, "s": None, "t": None}
            if event is not None:
                self.sequence += 1
                frame.update(s=self.sequence, t=event)
            await ws.send_str(json.dumps(frame))
            return self.sequence

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await self._send(ws, 10, {"heartbeat_interval": self.heartbeat_interval_ms})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                await self._on_frame(ws, frame)
                self.gateway_frames.append(frame)
                await self._notify()
        finally:
            self._sockets.discard(ws)
            if self._live is ws:
                self._live = None
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: Json) -> None:
        op, data = frame.get("op"), frame.get("d") or {}
        if op == 1:  # HEARTBEAT
            await self._send(ws, 11, None)
        elif op == 2:  # IDENTIFY
            self.session_id, self.sequence = secrets.token_hex(16), 0
            await self._send(ws, 0, self._ready_payload(), "READY")
            await self._send(ws, 0, self.guild_payload(), "GUILD_CREATE")
            self._live = ws
        elif op == 6:  # RESUME: nothing was missed, so nothing is replayed
            if data.get("session_id") != self.session_id:
                await self._send(ws, 9, False)  # INVALID_SESSION, not resumable
                return
            await self._send(ws, 0, {}, "RESUMED")
            self._live = ws

    def _ready_payload(self) -> Json:
        return {
            "v": 10,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
            "session_id": self.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APP_ID), "flags": self.application_payload()["flags"]},
            "private_channels": [],
            "relationships": [],
            "presences": [],
        }

    # -- REST --------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        body, files = await _read_body(request)
        recorded = Request(
            method=request.method,
            path=request.path.removeprefix(API_PREFIX),
            json=body,
            files=files,
            query=dict(request.query),
            authorized="Authorization" in request.headers,
        )
        response = _error(404, "404: Not Found", 0)
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(recorded.path)
            if method == request.method and match:
                response = handler(recorded, match)
                break
        recorded.status = response.status
        if response.body:
            assert isinstance(response.body, bytes)
            recorded.response = json.loads(response.body)
        self.requests.append(recorded)
        await self._notify()
        return response

    def _get_me(self, request: Request, match: re.Match[str]) -> web.Response:
        return _json({**self.bot_user, "verified": True, "mfa_enabled": False, "flags": 0})

    def _get_application(self, request: Request, match: re.Match[str]) -> web.Response:
        return _json(self.application_payload())

    def _get_gateway(self, request: Request, match: re.Match[str]) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    def _get_commands(self, request: Request, match: re.Match[str]) -> web.Response:
        guild = match["guild"]
        return _json(self.commands.get(int(guild) if guild else None, []))

    def _put_commands(self, request: Request, match: re.Match[str]) -> web.Response:
        if int(match["app"]) != APP_ID:
            return _error(404, "Unknown Application", 10002)
        guild = int(match["guild"]) if match["guild"] else None
        known = {c["name"]: c["id"] for c in self.commands.get(guild, [])}
        echoed = []
        for command in request.json or []:
            echo = {
                "type": 1,
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                "contexts": None,
                "integration_types": [0],
                **command,
                "id": known.get(command["name"]) or str(self.snowflake()),
                "application_id": str(APP_ID),
                "version": str(self.snowflake()),
            }
            if guild is not None:
                echo["guild_id"] = str(guild)
            echoed.append(echo)
        self.commands[guild] = echoed
        return _json(echoed)

    def _get_channel(self, request: Request, match: re.Match[str]) -> web.Response:
        channel = self.channels.get(int(match["channel"]))
        return _json(channel) if channel else _error(404, "Unknown Channel", 10003)

    def _post_message(self, request: Request, match: re.Match[str]) -> web.Response:
        channel_id = int(match["channel"])
        if channel_id not in self.channels:
            return _error(404, "Unknown Channel", 10003)
        body = request.json or {}
        message = self._new_message(channel_id, body, request.files)
        if ref := body.get("message_reference"):
            message["message_reference"] = {
                "type": 0,
                **{k: str(v) if k.endswith("_id") else v for k, v in ref.items()},
            }
            message["type"] = 19
            if int(ref["message_id"]) in self.messages:
                message["referenced_message"] = self.messages[int(ref["message_id"])]
        return _json(message)

    def _get_message(self, request: Request, match: re.Match[str]) -> web.Response:
        message = self.messages.get(int(match["message"]))
        return _json(message) if message else _error(404, "Unknown Message", 10008)

    def _typing(self, request: Request, match: re.Match[str]) -> web.Response:
        if int(match["channel"]) not in self.channels:
            return _error(404, "Unknown Channel", 10003)
        return _no_content()

    def _react(self, request: Request, match: re.Match[str]) -> web.Response:
        if int(match["message"]) not in self.messages:
            return _error(404, "Unknown Message", 10008)
        return _no_content()

    def _create_dm(self, request: Request, match: re.Match[str]) -> web.Response:
        user_id = int((request.json or {})["recipient_id"])
        if user_id not in self.users:
            return _error(400, "Invalid Recipient(s)", 50033)
        return _json(self.add_dm_channel(user_id))

    def _callback(self, request: Request, match: re.Match[str]) -> web.Response:
        state = self._interactions.get(match["token"])
        if state is None or state.id != int(match["id"]):
            return _error(404, "Unknown interaction", 10062)
        if state.responded:
            return _error(400, "Interaction has already been acknowledged.", 40060)
        state.responded = True
        body = request.json or {}
        kind, data = body["type"], body.get("data") or {}
        flags = data.get("flags", 0)
        info: Json = {
            "id": str(state.id),
            "type": state.type,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(flags & EPHEMERAL),
        }
        message: Json | None = None
        if kind in (4, 5):  # CHANNEL_MESSAGE_WITH_SOURCE / DEFERRED_CHANNEL_MESSAGE
            message = self._new_message(
                state.channel_id,
                {**data, "flags": flags | (LOADING if kind == 5 else 0)},
                request.files,
                message_type=20 if state.type == 2 else 0,
                interaction=state,
            )
            state.original_id = int(message["id"])
        elif kind in (6, 7) and state.message_id in self.messages:  # (DEFERRED_)UPDATE_MESSAGE
            assert state.message_id is not None
            message = self.messages[state.message_id]
            if kind == 7:
                self._edit(message, data, request.files)
            state.original_id = state.message_id
        result: Json = {"interaction": info}
        if message is not None:
            info["response_message_id"] = message["id"]
            result["resource"] = {"type": kind, "message": message}
        elif kind not in (8, 9):  # autocomplete and modal results create no resource
            result["resource"] = {"type": kind}
        return _json(result)

    def _webhook_interaction(self, match: re.Match[str]) -> _Interaction | None:
        state = self._interactions.get(match["token"])
        if int(match["app"]) != APP_ID or state is None or not state.responded:
            return None
        return state

    def _followup(self, request: Request, match: re.Match[str]) -> web.Response:
        state = self._webhook_interaction(match)
        if state is None:
            return _error(404, "Unknown Webhook", 10015)
        body = request.json or {}
        message = self._new_message(state.channel_id, body, request.files, interaction=state)
        return _json(message)

    def _webhook_message(self, match: re.Match[str]) -> Json | None:
        state = self._webhook_interaction(match)
        if state is None:
            return None
        key = match["message"]
        message_id = state.original_id if key == "@original" else int(key)
        return self.messages.get(message_id) if message_id is not None else None

    def _get_webhook_message(self, request: Request, match: re.Match[str]) -> web.Response:
        message = self._webhook_message(match)
        return _json(message) if message else _error(404, "Unknown Message", 10008)

    def _edit_webhook_message(self, request: Request, match: re.Match[str]) -> web.Response:
        message = self._webhook_message(match)
        if message is None:
            return _error(404, "Unknown Message", 10008)
        self._edit(message, request.json or {}, request.files)
        message["flags"] = message.get("flags", 0) & ~LOADING
        return _json(message)

    def _attachments(self, channel_id: int, files: Sequence[UploadedFile]) -> list[Json]:
        attachments = []
        for upload in files:
            attachment_id = self.snowflake()
            url = f"https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/{upload.filename}"
            attachments.append(
                {
                    "id": str(attachment_id),
                    "filename": upload.filename,
                    "size": len(upload.content),
                    "url": url,
                    "proxy_url": url,
                    "content_type": "application/octet-stream",
                }
            )
        return attachments

    def _new_message(
        self,
        channel_id: int,
        body: Json,
        files: Sequence[UploadedFile],
        *,
        message_type: int = 0,
        interaction: _Interaction | None = None,
    ) -> Json:
        """A message the bot sent, stored in self.messages."""
        channel = self.channels.get(channel_id, {})
        message: Json = {
            "id": str(self.snowflake()),
            "channel_id": str(channel_id),
            "author": self.bot_user,
            "content": body.get("content") or "",
            "timestamp": _now(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments(channel_id, files),
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": message_type,
            "flags": body.get("flags", 0),
        }
        if "guild_id" in channel:
            message["guild_id"] = channel["guild_id"]
        if interaction is not None:
            message["application_id"] = str(APP_ID)
            message["webhook_id"] = str(APP_ID)
        self.messages[int(message["id"])] = message
        return message

    def _edit(self, message: Json, body: Json, files: Sequence[UploadedFile]) -> None:
        for key in ("content", "embeds", "components"):
            if key in body:
                empty: Any = "" if key == "content" else []
                message[key] = empty if body[key] is None else body[key]
        if files:
            message["attachments"] = self._attachments(int(message["channel_id"]), files)
        message["edited_timestamp"] = _now()
