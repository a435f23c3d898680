"""Short, stable item ids a person can type (`/memory forget k3x9p`)."""

from __future__ import annotations

import secrets
from collections.abc import Container

# No 0/o, 1/l/i: easy to read back from a chat window and type again.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
LENGTH = 5


def new_item_id(taken: Container[str] = ()) -> str:
    """A random id of LENGTH (5) characters from ALPHABET (31 letters and digits, about
    2.9e7 ids) that is not in `taken`; drawn again on a clash."""
    while True:
        candidate = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if candidate not in taken:
            return candidate


def field_id(name: str) -> str:
    """The id a person types for a profile field: `preferred_name` -> `preferred-name`."""
    return name.replace("_", "-")


def field_name(item_id: str) -> str:
    """The profile field a typed id names: `preferred-name` -> `preferred_name`."""
    return item_id.replace("-", "_")
