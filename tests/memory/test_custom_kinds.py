"""A deployer's own kinds (MEMORY_KINDS): the model is offered exactly their tools, over the
OpenAI wire, and ids, recall, forget, caps, retention, export, forget all and isolation work
for them with no code of their own."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.kinds import load_kinds
from bot.models import load_model
from bot.storage import Storage
from memory.commands.results import ConfirmForgetAll, ExportResult, ForgetAllReceipt, ShowResult
from memory.commands.verbs import parse_command
from memory.engine import EngineConfig, MemoryEngine
from memory.identity import UserRef
from memory.policy import MemoryPolicy
from tests.conftest import MANUAL, engine_on, unique
from tests.fakes.openai_server import ChatRequest, FakeOpenAI, FakeResponse
from tests.memory.helpers import channel, dm, person, say
from tests.rules import chat_reply, existing_docs

TEAM_KINDS = str(Path(__file__).with_name("team_kinds.py"))


class TeamModel:
    """Speaks for the model over the wire: reports ("report: X") become Ticket inserts, "I
    work at X" an Account; consolidation keeps nothing (so the oldest make room)."""

    def __init__(self) -> None:
        self.offered: list[list[str]] = []

    def __call__(self, request: ChatRequest) -> FakeResponse:
        tools = request.tool_names()
        if not tools:
            return FakeResponse.text(chat_reply(request.system_text()))
        self.offered.append(tools)
        prompt = request.last_user_text()
        if "keep at most" in prompt:
            return FakeResponse.text("")
        docs = existing_docs(request.system_text())
        calls: list[tuple[str, dict[str, object]]] = []
        for line in prompt.splitlines():
            if line.startswith("assistant:"):
                continue
            if m := re.search(r"report: (.+?)$", line):
                calls.append(("Ticket", {"summary": m.group(1)}))
            if m := re.search(r"I work at (\w+)", line):
                if "account" in docs:
                    patch = {"op": "add", "path": "/company", "value": m.group(1)}
                    args = {"json_doc_id": "account", "planned_edits": "set", "patches": [patch]}
                    calls.append(("PatchDoc", args))
                else:
                    calls.append(("Account", {"company": m.group(1)}))
        return FakeResponse.calls(calls) if calls else FakeResponse.text("")


@pytest.fixture
async def team(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[MemoryEngine, TeamModel]]:
    responder = TeamModel()
    async with FakeOpenAI(responder) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        kinds = load_kinds(TEAM_KINDS)
        config = EngineConfig(
            quiet_seconds=MANUAL.quiet_seconds,
            every_messages=MANUAL.every_messages,
            policy=MemoryPolicy(declared=kinds),
        )
        engine = engine_on(storage, load_model("openai:gpt-test"), config=config)
        yield engine, responder
        await engine.scheduler.close()


async def _run(engine: MemoryEngine, user: UserRef, text: str):  # type: ignore[no-untyped-def]
    return await engine.run_command(user, parse_command(text))


async def test_a_deployers_kinds_work_end_to_end(
    team: tuple[MemoryEngine, TeamModel], storage: Storage
) -> None:
    engine, model = team
    alice, bob = person(unique("alice")), person(unique("bob"))
    for text in ("I work at Acme", "report: export is slow"):
        await engine.reply(say(alice, dm(alice), text))
    await engine.reply(say(bob, channel(), "report: login fails"))
    await engine.learn_now(alice.key)
    await engine.learn_now(bob.key)

    # Exactly the deployer's tools (and trustcall's own), none of the built-in ones.
    assert model.offered
    for tools in model.offered:
        assert {"Account", "Ticket"} <= set(tools)
        assert not {"Profile", "Fact", "Todo"} & set(tools)

    shown = await _run(engine, alice, "show")
    assert isinstance(shown, ShowResult)
    assert [s.title for s in shown.sections] == ["Account", "Tickets"]
    [ticket] = shown.of("tickets")
    assert ticket.text == "export is slow" and ticket.kind == "ticket"
    assert [v.id for v in shown.of("account")] == ["company"]
    assert f"[{ticket.id}] export is slow" in shown.as_text()
    assert (await _run(engine, alice, "show ticket")).sections[0].name == "tickets"

    # Recalled in the reply prompt, for Alice only.
    reply = await engine.reply(say(alice, dm(alice), "What is open?"))
    assert "ticket: export is slow" in reply.text and "company: Acme" in reply.text
    # Learned in a DM: never used in a channel.
    shared = await engine.reply(say(alice, channel(), "What is open?"))
    assert "export is slow" not in shared.text and "Acme" not in shared.text
    other = await engine.reply(say(bob, dm(bob), "What is open?"))
    assert "export is slow" not in other.text and "Acme" not in other.text
    bobs = await _run(engine, bob, "show")
    assert [v.text for v in bobs.of("tickets")] == ["login fails"] and not bobs.of("account")

    # Exported under the kinds' names.
    exported = await _run(engine, alice, "export")
    assert isinstance(exported, ExportResult)
    assert [t["data"]["summary"] for t in exported.document["tickets"]] == ["export is slow"]
    assert exported.document["account"][0]["data"]["company"] == "Acme"

    # Forgotten one by one: the ticket by its id, the profile field by its name.
    await _run(engine, alice, f"forget {ticket.id}")
    await _run(engine, alice, "forget company")
    after = await _run(engine, alice, "show")
    assert after.empty
    assert [v.text for v in (await _run(engine, bob, "show")).of("tickets")] == ["login fails"]


async def test_a_collection_is_capped_swept_and_erased_by_forget_all(
    team: tuple[MemoryEngine, TeamModel],
) -> None:
    engine, _ = team
    alice, bob = person(unique("alice")), person(unique("bob"))
    for n in range(4):
        await engine.reply(say(alice, dm(alice), f"report: problem {n}"))
        await engine.learn_now(alice.key)
    await engine.reply(say(bob, dm(bob), "report: bob's problem"))
    await engine.learn_now(bob.key)

    # The cap is 2: the model merged nothing, so the oldest made room.
    kept = sorted(v.text for v in (await _run(engine, alice, "show tickets")).of("tickets"))
    assert kept == ["problem 2", "problem 3"]

    confirm = await _run(engine, alice, "forget all")
    assert isinstance(confirm, ConfirmForgetAll) and confirm.counts == {"account": 0, "tickets": 2}

    # Retention: 7 days after their last change they are swept.
    sweep = engine.learner.housekeeping.sweep
    assert await sweep(alice.key, now=datetime.now(UTC) + timedelta(days=6)) == 0
    assert await sweep(alice.key, now=datetime.now(UTC) + timedelta(days=8)) == 2
    assert (await _run(engine, alice, "show")).empty

    await engine.reply(say(alice, dm(alice), "report: again"))
    await engine.learn_now(alice.key)
    receipt = await _run(engine, alice, "forget all confirm")
    assert isinstance(receipt, ForgetAllReceipt) and receipt.deleted["tickets"] == 1
    assert (await _run(engine, alice, "show")).empty
    bobs = await _run(engine, bob, "show")
    assert [v.text for v in bobs.of("tickets")] == ["bob's problem"]
