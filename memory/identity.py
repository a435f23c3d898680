"""Who is speaking and where: value objects whose keys namespace every stored row."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from memory.errors import IdentityError

Audience = Literal["dm", "channel"]

# Ids end up inside store namespaces (joined with ".") and thread ids (joined with ":"),
# so they must not contain either separator or whitespace.
_SAFE_ID = re.compile(r"^[A-Za-z0-9_\-@+]{1,128}$")


def _check(kind: str, value: str | None) -> str:
    if not value or not _SAFE_ID.match(value):
        raise IdentityError(f"invalid {kind}: {value!r}")
    return value


@dataclass(frozen=True)
class UserRef:
    """An account on one platform. `workspace` is the Slack team (or Enterprise Grid org) id.

    `platform`, `id` and `workspace` must each be 1-128 characters of A-Z a-z 0-9 _ - @ +
    (they become parts of store namespaces and thread ids); IdentityError otherwise.
    `display_name` is for prompts only and takes no part in equality.
    """

    platform: str
    id: str
    workspace: str | None = None
    display_name: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _check("platform", self.platform)
        _check("user id", self.id)
        if self.workspace is not None:
            _check("workspace id", self.workspace)

    @property
    def key(self) -> str:
        """The account key, `platform:workspace:id` (`slack:T1:U1`) or `platform:id`
        (`console:alice`) without a workspace."""
        parts = [self.platform, self.workspace, self.id]
        return ":".join(p for p in parts if p)

    @property
    def name(self) -> str:
        """What the bot calls the person: the display name, else the platform id."""
        return self.display_name or self.id


@dataclass(frozen=True)
class ConversationRef:
    """A conversation (a LangGraph thread). `key` is the thread id; `audience` drives privacy.

    IdentityError for an empty key, one over 300 characters or with whitespace, an audience
    other than "dm" or "channel", or an unsafe platform.
    """

    key: str
    audience: Audience
    platform: str
    # The channel's name as people see it (Discord's `general`), when the adapter knows it;
    # not part of which conversation this is.
    name: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.key or len(self.key) > 300 or any(c.isspace() for c in self.key):
            raise IdentityError(f"invalid conversation key: {self.key!r}")
        if self.audience not in ("dm", "channel"):
            raise IdentityError(f"invalid audience: {self.audience!r}")
        _check("platform", self.platform)


def conversation_key(platform: str, *parts: str) -> str:
    """The single place that joins a platform's ids into a thread id:
    `conversation_key("slack", "T1", "C1")` is `slack:T1:C1`. IdentityError when a part is
    not a safe id (1-128 characters of A-Z a-z 0-9 _ - @ +)."""
    for part in parts:
        _check("conversation id part", part)
    return ":".join((platform, *parts))
