"""What the fake Discord records: REST calls, uploaded files and the interactions it sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
class Interaction:
    """An interaction the fake sent, and what the bot has answered to it so far."""

    id: int
    type: int
    channel_id: int
    guild_id: int | None
    message_id: int | None = None  # the message a component belongs to
    responded: bool = False
    original_id: int | None = None  # the message the initial response created
