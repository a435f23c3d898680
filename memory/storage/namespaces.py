"""Store namespaces: built here and nowhere else, so every row is keyed by its user.

A person's rows sit under `("users", key, section)`: one section per memory kind (its name,
memory.kinds), and the sections below for everything else.
"""

from __future__ import annotations

from typing import Literal

Internal = Literal["settings", "pending", "conversations", "history", "erasure", "changes"]
INTERNAL: tuple[str, ...] = (
    "settings",
    "pending",
    "conversations",
    "history",
    "erasure",
    "changes",
)
# A memory kind's name, or one of INTERNAL.
Section = str
ROOT = "users"


def user_namespace(user_key: str, section: Section) -> tuple[str, ...]:
    """The store namespace ("users", user_key, section) of one section of a person's rows. Raises
    ValueError for an empty key or section (a row that belongs to nobody)."""
    if not user_key:
        raise ValueError("a namespace needs a user key")
    if not section:
        raise ValueError("a namespace needs a section")
    return (ROOT, user_key, section)


def user_prefix(user_key: str) -> tuple[str, ...]:
    """The namespace prefix ("users", user_key) above all of a person's sections. Raises ValueError
    for an empty key."""
    if not user_key:
        raise ValueError("a namespace needs a user key")
    return (ROOT, user_key)


def is_memory_section(section: str) -> bool:
    """Whether a section holds memory items (of a kind declared now or once), not bookkeeping."""
    return section not in INTERNAL
