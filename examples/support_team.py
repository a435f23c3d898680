"""What a support team's bot remembers: who each customer is, and their open tickets.

Run the bot with `MEMORY_KINDS=./examples/support_team.py`. The model reads each schema's
docstring and its fields' descriptions; ids, forget, export, caps, retention and privacy
(DM-learned stays in DMs) work for these kinds as for the built-in ones.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from memory.kinds import Lifecycle, collection, profile


class Customer(BaseModel):
    """The customer the person is: their company, plan and how to reach them."""

    company: str | None = Field(default=None, description="Company they work for")
    plan: str | None = Field(default=None, description="Their subscription plan, e.g. 'Pro'")
    contact: str | None = Field(default=None, description="How they like to be contacted")


class OpenTicket(BaseModel):
    """A support problem the person reported that is not solved yet."""

    summary: str = Field(description="The problem, in one short sentence", min_length=1)
    product: str | None = Field(default=None, description="Which product it is about")
    status: Literal["open", "solved"] = Field(
        default="open", description="open, or solved once they say it works"
    )


def _ticket_line(data: dict[str, Any]) -> str:
    product = data.get("product")
    return str(data.get("summary", "")) + (f" ({product})" if product else "")


KINDS = [
    # Their contact preference may be forgotten on its own; company and plan only with all.
    profile(Customer, title="Customer", forgettable=["contact"]),
    collection(
        OpenTicket,
        name="tickets",
        item="ticket",
        title="Open tickets",
        text_field="summary",
        line=_ticket_line,
        cap=50,
        # Solved tickets go 30 days after they were solved; one left open for 90 days expires.
        lifecycle=Lifecycle(field="status", open="open", expire_days=90),
        retention_days=30,
        recall_limit=5,
        recall_label="ticket: ",
    ),
]
