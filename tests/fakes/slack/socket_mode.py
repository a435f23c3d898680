"""The fake Slack's Socket Mode websocket: hello, envelopes sent to the app, and their acks."""

from __future__ import annotations

import asyncio
import json
import uuid

import aiohttp
from aiohttp import web

from .recording import SlackRecorder
from .records import APP_ID, JsonDict


class SocketMode(SlackRecorder):
    """Serves the Socket Mode link; envelopes go to the newest connection."""

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
