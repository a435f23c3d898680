"""Store namespaces: built here and nowhere else, so every row is keyed by its user."""

from __future__ import annotations

from typing import Literal

Section = Literal[
    "profile",
    "facts",
    "todos",
    "settings",
    "pending",
    "conversations",
    "history",
    "erasure",
    "changes",
]
ROOT = "users"


def user_namespace(user_key: str, section: Section) -> tuple[str, ...]:
    if not user_key:
        raise ValueError("a namespace needs a user key")
    return (ROOT, user_key, section)


def user_prefix(user_key: str) -> tuple[str, ...]:
    if not user_key:
        raise ValueError("a namespace needs a user key")
    return (ROOT, user_key)
