"""The model misbehaves over the wire (500, 429, timeouts, broken tool calls): users get a
polite reply, learning is retried later or skipped, and nothing is half-written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.models import load_model
from bot.storage import Storage
from memory.engine import MemoryEngine
from tests.conftest import MANUAL, engine_on, unique
from tests.fakes.openai_server import ChatRequest, FakeOpenAI, FakeResponse, FakeToolCall
from tests.memory.helpers import dm, person, say
from tests.test_console_e2e import responder as rules_over_the_wire


@pytest.fixture
def backend() -> str:
    return "sqlite"


class Switchable:
    """The rule-following model, unless a test makes it fail."""

    def __init__(self) -> None:
        self.failure: FakeResponse | None = None
        self.fail_extraction_only = False

    def __call__(self, request: ChatRequest) -> FakeResponse:
        extraction = bool(request.tool_names())
        if self.failure is not None and (extraction or not self.fail_extraction_only):
            return self.failure
        return rules_over_the_wire(request)


@pytest.fixture
async def wire(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[MemoryEngine, Switchable]]:
    switch = Switchable()
    async with FakeOpenAI(switch) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        model = load_model("openai:gpt-test", timeout=0.5, max_retries=0)
        engine = engine_on(storage, model, config=MANUAL)
        yield engine, switch
        await engine.scheduler.close()


FAILURES: dict[str, Any] = {
    "500": FakeResponse.error(500, "upstream exploded"),
    "429": FakeResponse.error(429, "slow down", retry_after=0),
    "timeout": FakeResponse.text("too late", delay=3),
}


@pytest.mark.parametrize("kind", sorted(FAILURES))
async def test_a_failing_model_gets_a_polite_reply(
    wire: tuple[MemoryEngine, Switchable], kind: str
) -> None:
    engine, switch = wire
    alice = person(unique("alice"))
    switch.failure = FAILURES[kind]

    reply = await engine.reply(say(alice, dm(alice), "Remember that I keep bees"))

    assert reply.failed and reply.text.startswith("Sorry")
    counted = [
        sample
        for metric in engine.stats.registry.collect()
        if metric.name == "bot_errors"
        for sample in metric.samples
        if sample.name == "bot_errors_total" and sample.labels["kind"].startswith("reply:")
    ]
    assert [s.value for s in counted] == [1.0], "the failure is counted"
    switch.failure = None
    assert not (await engine.reply(say(alice, dm(alice), "hello again"))).failed


@pytest.mark.parametrize("known", [False, True], ids=["first-time", "with-memory"])
@pytest.mark.parametrize("kind", sorted(FAILURES))
async def test_failed_learning_is_kept_for_a_retry_and_writes_nothing(
    wire: tuple[MemoryEngine, Switchable], kind: str, known: bool
) -> None:
    engine, switch = wire
    alice = person(unique("alice"))
    if known:  # trustcall takes its update path when documents exist
        await engine.reply(say(alice, dm(alice), "Remember that I ski"))
        await engine.learner.learn_pending(alice.key)
    await engine.reply(say(alice, dm(alice), "My name is Alice. Remember that I keep bees"))
    before = await engine.repository.load(alice.key)
    switch.failure, switch.fail_extraction_only = FAILURES[kind], True

    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises for this failure
        await engine.learner.learn_pending(alice.key)

    memory = await engine.repository.load(alice.key)
    assert memory == before  # nothing half-written
    assert len(await engine.repository.list_pending(alice.key)) == 1
    switch.failure = None
    await engine.learner.learn_pending(alice.key)
    memory = await engine.repository.load(alice.key)
    assert "I keep bees" in [f.text() for f in memory.facts.values()]
    assert memory.merged_profile()["name"] == "Alice"


async def test_broken_tool_calls_are_skipped_without_partial_writes(
    wire: tuple[MemoryEngine, Switchable],
) -> None:
    engine, switch = wire
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "Remember that I keep bees"))
    await engine.learner.learn_pending(alice.key)
    before = await engine.repository.load(alice.key)

    await engine.reply(say(alice, dm(alice), "Remember that I ski"))
    switch.failure = FakeResponse.calls(
        [FakeToolCall("Fact", '{"content": "I ski'), FakeToolCall("Profile", "not json")]
    )
    switch.fail_extraction_only = True
    await engine.learner.learn_pending(alice.key)

    after = await engine.repository.load(alice.key)
    assert after.facts.keys() == before.facts.keys()
    assert [f.text() for f in after.facts.values()] == ["I keep bees"]
    assert await engine.repository.list_pending(alice.key) == {}  # skipped, not retried forever
