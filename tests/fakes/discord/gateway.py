"""The fake Discord's gateway websocket: HELLO, IDENTIFY/READY, RESUME and dispatched events."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from .ids import APP_ID, GUILD_ID, Json
from .recording import Recorder


class Gateway(Recorder):
    """Serves ``/gateway``: one live (identified or resumed) session that events go to."""

    def __init__(self, *, heartbeat_interval_ms: int) -> None:
        super().__init__()
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.session_id: str | None = None
        self.sequence = 0
        self._send_lock = asyncio.Lock()
        self._sockets: set[web.WebSocketResponse] = set()
        self._live: web.WebSocketResponse | None = None  # identified or resumed

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
