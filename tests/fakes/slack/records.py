"""The fake Slack's fixed ids, and what it records: Web API calls, response_url posts, uploads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
APP_ID = "A1"
PERMALINK_BASE = "https://fake-team.slack.com/"

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
class Failure:
    """An injected failure of the next call of a Web API method (see `FakeSlack.fail_next`)."""

    error: str
    status: int
    retry_after: int
