"""The kind registry: what it refuses at start, the extraction prompt and tools it gives the
model, lifecycles and retention, and how a deployer's kinds are rendered on each platform."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel, Field

from adapters.discord.render import render_show
from adapters.slack.render import show_blocks
from memory.builtin_kinds import BUILTIN
from memory.commands.results import ItemView, ShowResult, ShowSection
from memory.identity import UserRef
from memory.kinds import KindError, KindRegistry, Lifecycle, collection, profile
from memory.learning.extraction import instructions


class Note(BaseModel):
    """Something worth keeping."""

    text: str = Field(description="The note")
    state: str = "open"


class Card(BaseModel):
    """Who they are."""

    company: str | None = None


class Strict(BaseModel):
    """A profile that cannot start empty."""

    company: str


@pytest.mark.parametrize(
    ("kinds", "reason"),
    [
        (
            [collection(Note), collection(Note, name="notes", item="other")],
            "two kinds named `notes`",
        ),
        ([collection(Note, name="history")], "must be lowercase"),
        ([profile(Strict)], "every field needs a default; company has none"),
        ([profile(Card), profile(Card, name="card_two")], "two kinds with the schema `Card`"),
        ([collection(Note, text_field="nope")], "has no field nope"),
        ([collection(Note, version=2, migrations={2: dict})], "migrations keyed"),
        ([], "no memory kinds"),
    ],
)
def test_kinds_the_bot_cannot_use_are_refused(kinds: list, reason: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(KindError, match=reason.replace("(", r"\(")):
        KindRegistry(kinds)


def test_the_extraction_prompt_names_each_kinds_tool() -> None:
    kinds = KindRegistry([profile(Card), collection(Note)])
    text = instructions(kinds, "Ana {x}", "now")
    assert "- Card: Who they are." in text and "- Note: Something worth keeping." in text
    assert "Profile" not in text and "Ana {x}" in text
    assert [s.__name__ for s in kinds.schemas] == ["Card", "Note"]
    assert [s.__name__ for s in BUILTIN.schemas] == ["Profile", "Fact", "Todo"]


def test_a_lifecycle_decides_recall_and_retention() -> None:
    kind = collection(Note, lifecycle=Lifecycle("state", "open", expire_days=10), retention_days=5)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    open_, done = {"text": "a", "state": "open"}, {"text": "a", "state": "done"}
    assert kind.recalled(open_, start, start + timedelta(days=9))
    assert kind.state(open_, start, start + timedelta(days=11)) == "expired"
    assert not kind.recalled(done, start, start)
    assert not kind.is_gone(open_, start, start + timedelta(days=9))
    assert not kind.is_gone(open_, start, start + timedelta(days=14))  # expired 4 days ago
    assert kind.is_gone(open_, start, start + timedelta(days=16))
    assert kind.is_gone(done, start, start + timedelta(days=6))
    kept = collection(Note)
    assert not kept.is_gone(done, start, start + timedelta(days=10_000))


def test_a_deployers_kinds_render_on_slack_and_discord() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    view = ItemView("k3x9p", "note", "call the vendor", "dm", "test", "c", at, state="done")
    field = ItemView("company", "card", "company: Acme", "dm", "test", "c", at)
    result = ShowResult(
        scope="all",
        sections=(
            ShowSection("card", "Card", [field], profile=True),
            ShowSection("notes", "Team notes", [view]),
        ),
    )
    blocks = show_blocks(result, UserRef("test", "ana"), limit=10)
    texts = [b.get("text", {}).get("text", "") for b in blocks if b["type"] == "section"]
    assert "*Card*" in texts and "*Team notes*" in texts
    assert any("`k3x9p` call the vendor _[done]_" in t for t in texts)
    embed = render_show(result)
    assert [f.name for f in embed.fields] == ["`company` · card", "`k3x9p` · note · done"]
    assert result.items == [view] and "Team notes:" in result.as_text()
