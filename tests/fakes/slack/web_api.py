"""The fake Slack's Web API (``/api/{method}``), file upload URLs and response URLs."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable

from aiohttp import web

from .limits import VIEW_BLOCKS, blocks_problem, message_problem
from .oauth import OAuthGrants
from .records import BOT_ID, BOT_USER_ID, PERMALINK_BASE, Call, JsonDict, ResponseUrlPost, Upload


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
    elif auth.startswith("Basic "):  # oauth.v2.access: the app's client id and secret
        try:
            pair = base64.b64decode(auth.removeprefix("Basic ")).decode()
        except (binascii.Error, UnicodeDecodeError):
            pair = ""
        client_id, _, client_secret = pair.partition(":")
        args.setdefault("client_id", client_id)
        args.setdefault("client_secret", client_secret)
    return args, token


class WebApi(OAuthGrants):
    """Records each Web API call and answers it from `_handlers()`, or with an injected failure."""

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
        problem = self._limit_problem(method, args)
        if problem:
            self.violations.append(f"{method}: {problem}")
            return web.json_response({"ok": False, "error": problem})
        handler = self._handlers().get(method)
        if method == "auth.test":
            body = self._identity(token)
        else:
            body = handler(args) if handler else {"ok": False, "error": "unknown_method"}
        return web.json_response(body)

    @staticmethod
    def _limit_problem(method: str, args: JsonDict) -> str | None:
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            return message_problem(args)
        if method == "views.publish":
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view or {}
            return blocks_problem(view.get("blocks"), VIEW_BLOCKS)
        return None

    def _handlers(self) -> dict[str, Callable[[JsonDict], JsonDict]]:
        return {
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": lambda a: {"ok": True, "message_ts": self._next_ts()},
            "chat.update": self._update,
            "chat.getPermalink": self._permalink,
            "reactions.add": lambda a: {"ok": True},
            "users.info": self._users_info,
            "conversations.replies": self._replies,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "apps.connections.open": lambda a: {"ok": True, "url": self.socket_url},
            "oauth.v2.access": self._oauth_v2_access,
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

    def _permalink(self, args: JsonDict) -> JsonDict:
        channel, ts = str(args.get("channel") or ""), str(args.get("message_ts") or "")
        if not channel or not ts:
            return {"ok": False, "error": "invalid_arguments"}
        link = f"{PERMALINK_BASE}archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

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
        problem = message_problem(body)
        if problem:
            self.violations.append(f"response_url: {problem}")
            return web.Response(status=400, text=problem)
        self.responses.append(ResponseUrlPost(request.match_info["name"], body))
        await self._notify()
        return web.Response(text="ok")
