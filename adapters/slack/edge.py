"""The HTTP edge for Slack: verify, parse, validate, then hand the request to bolt.

The signature is checked on the raw bytes before the body is read as anything (bolt parses the
body while building its request, so a garbage body used to cost a 500 and a traceback), and a
payload that is not a well-formed Slack payload never reaches a listener:

- no signature headers, a wrong signature, or a timestamp more than 5 minutes off: 401
  (Slack's rule, api.slack.com/authentication/verifying-requests-from-slack);
- a timestamp that is not a number, a body that is not UTF-8, JSON or a form: 400;
- a signed payload with wrong-typed fields: acknowledged (200) and dropped with one warning,
  since Slack would only send the same payload again.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from adapters.slack.payloads import problems

log = logging.getLogger(__name__)

MAX_TIMESTAMP_DIGITS = 12


def parse_body(text: str, content_type: str) -> Any:
    """The payload of a Slack request body, as bolt would read it; ValueError if unreadable."""
    try:
        if content_type == "application/json" or text.startswith("{"):
            return json.loads(text)
        fields = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" in fields:
            return json.loads(fields["payload"])
        return fields
    except (ValueError, RecursionError) as exc:
        raise ValueError("unreadable body") from exc


class SlackEdge:
    """The aiohttp handler for Slack's POSTs to /slack/events."""

    def __init__(self, app: AsyncApp, signing_secret: str) -> None:
        self.app = app
        self.verifier = SignatureVerifier(signing_secret)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one POST: 401 without signature headers, for a wrong signature or a
        timestamp more than 5 minutes off (slack_sdk's SignatureVerifier); 400 for a
        timestamp that is not 1-12 digits or a body that is not UTF-8, JSON or a form;
        200, dropped, for a malformed payload; otherwise bolt's response."""
        raw = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        if not timestamp or not signature:
            return _refuse(401, "unsigned")
        if not _is_number(timestamp):
            return _refuse(400, "bad timestamp")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(400, "not UTF-8")
        if not self.verifier.is_valid(text, timestamp, signature):
            return _refuse(401, "bad signature")
        try:
            body = parse_body(text, request.content_type)
        except ValueError:
            return _refuse(400, "unreadable body")
        wrong = problems(body)
        if wrong:
            log.warning(
                "ignored a malformed Slack payload (fields: %s)",
                ", ".join(wrong[:5]),
                extra={"event_id": body.get("event_id") if isinstance(body, dict) else None},
            )
            return web.Response(status=200)
        bolt_request = AsyncBoltRequest(
            body=text,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]  # bolt's own adapter does the same
        )
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))


class ValidatingSocketModeHandler(AsyncSocketModeHandler):
    """Socket Mode with the same check: a malformed payload is acknowledged and dropped
    (Slack authenticated the connection, so the signature checks do not apply)."""

    async def handle(self, client: Any, req: SocketModeRequest) -> None:  # type: ignore[override]
        """bolt's per-request Socket Mode hook: a well-formed payload goes on to bolt; a
        malformed one is acknowledged (an empty response with its envelope_id, so Slack does
        not send it again) and dropped with one warning."""
        wrong = problems(req.payload)
        if not wrong:
            await super().handle(client, req)
            return
        log.warning("ignored a malformed Slack payload (fields: %s)", ", ".join(wrong[:5]))
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))


def _is_number(timestamp: str) -> bool:
    return timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS


def _refuse(status: int, why: str) -> web.Response:
    log.debug("refused a request to /slack/events: %s", why)
    return web.json_response({"error": why}, status=status)
