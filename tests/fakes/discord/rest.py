"""The fake Discord's REST API under ``/api/v10``: the routes discord.py calls, and answers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from aiohttp import BodyPartReader, web

from .ids import API_PREFIX, APP_ID, EPHEMERAL, LOADING, Json
from .recording import Recorder
from .records import Interaction, Request, UploadedFile

Handler = Callable[[Request, re.Match[str]], web.Response]
Route = tuple[str, re.Pattern[str], Handler]


def _json(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": with a charset discord.py reads the body as a string.
    body = json.dumps(data).encode()
    return web.Response(status=status, body=body, content_type="application/json")


def _error(status: int, message: str, code: int) -> web.Response:
    return _json({"message": message, "code": code}, status)


def _no_content() -> web.Response:
    return web.Response(status=204)


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


class RestApi(Recorder):
    """Answers each REST call from the world, and records it in ``requests``."""

    _routes: list[Route]  # from _route_table(), made once the fake is built

    def _route_table(self) -> list[Route]:
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
            ("GET", r"/channels/(?P<channel>\d+)/messages", self._history),
            ("POST", r"/channels/(?P<channel>\d+)/typing", self._typing),
            ("PUT", reaction, self._react),
            ("DELETE", reaction, self._react),
            ("POST", r"/users/@me/channels", self._create_dm),
            ("POST", r"/interactions/(?P<id>\d+)/(?P<token>[^/]+)/callback", self._callback),
            ("POST", webhook, self._followup),
            ("GET", webhook_message, self._get_webhook_message),
            ("PATCH", webhook_message, self._edit_webhook_message),
        ]
        return [(method, re.compile(path), handler) for method, path, handler in routes]

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

    def _history(self, request: Request, match: re.Match[str]) -> web.Response:
        """A channel's messages, newest first, as Discord returns them (`after`, `before`,
        `limit` up to 100)."""
        channel = match["channel"]
        if int(channel) not in self.channels:
            return _error(404, "Unknown Channel", 10003)
        after = int(request.query.get("after") or 0)
        before = int(request.query.get("before") or 2**63)
        limit = min(int(request.query.get("limit") or 50), 100)
        found = [
            m for i, m in self.messages.items() if m["channel_id"] == channel and after < i < before
        ]
        # The `limit` messages nearest to `after` when only it is given, else nearest `before`.
        oldest_first = bool(after) and "before" not in request.query
        found.sort(key=lambda m: int(m["id"]), reverse=not oldest_first)
        page = sorted(found[:limit], key=lambda m: -int(m["id"]))
        return _json(page)

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

    def _webhook_interaction(self, match: re.Match[str]) -> Interaction | None:
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
