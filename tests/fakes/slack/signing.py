"""Signing a request as Slack does, and POSTing it to an app in HTTP mode."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, NamedTuple

import aiohttp


def sign_request(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The X-Slack-Signature / X-Slack-Request-Timestamp headers for exactly `body`."""
    ts = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{ts}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


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
