"""A deployer's memory kinds, for tests: a custom profile and a custom collection, built with
the public helpers from plain pydantic models (MEMORY_KINDS=tests/memory/team_kinds.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from memory.kinds import collection, profile


class Account(BaseModel):
    """The customer account the person belongs to."""

    company: str | None = Field(default=None, description="Company they work for")
    plan: str | None = Field(default=None, description="Their subscription plan")


class Ticket(BaseModel):
    """A support problem the person reported that is not solved yet."""

    summary: str = Field(description="The problem, in one sentence", min_length=1)
    product: str | None = Field(default=None, description="Which product it is about")


KINDS = [
    profile(Account, name="account", forgettable=["plan", "company"]),
    collection(
        Ticket,
        name="tickets",
        item="ticket",
        title="Tickets",
        cap=2,
        retention_days=7,
        recall_label="ticket: ",
    ),
]
