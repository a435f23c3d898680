"""One deployer's kinds, before and after they edited the schema: `summary` became `title`
(with a migration), `team` was removed, `priority` was added."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from memory.kinds import KindRegistry, collection


class TicketV1(BaseModel):
    """A support problem the person reported."""

    summary: str = Field(description="The problem", min_length=1)
    team: str | None = Field(default=None, description="Which team handles it")


class Ticket(BaseModel):
    """A support problem the person reported."""

    title: str = Field(description="The problem", min_length=1)
    priority: str | None = Field(default=None, description="low, normal or high")


def summary_to_title(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 -> 2: `summary` is now `title`; `team` is no more."""
    moved = {k: v for k, v in data.items() if k not in ("summary", "team")}
    if "summary" in data:
        moved["title"] = data["summary"]
    return moved


BEFORE = KindRegistry([collection(TicketV1, name="tickets", item="ticket")])
KINDS = [
    collection(
        Ticket,
        name="tickets",
        item="ticket",
        text_field="title",
        version=2,
        migrations={1: summary_to_title},
    )
]
AFTER = KindRegistry(KINDS)
