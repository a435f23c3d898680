"""No junk from small talk: a model made to call a tool stores *something*; ours is not made to.

The eager model (tests/rules.py) does what a real model tends to do when trustcall forces a
tool call (tool_choice "any"/"required"): it inserts a fact holding the last message
verbatim. When the choice is left to it, it follows the careful rules.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain.chat_models import init_chat_model

from memory.engine import MemoryEngine
from memory.learning.extraction import ExistingMemory, MemoryExtractor
from tests.conftest import engine_on, unique
from tests.fakes.openai_server import ChatRequest, FakeOpenAI, FakeResponse
from tests.memory.helpers import dm, person, say
from tests.memory.test_extraction import said
from tests.rules import eager_script
from tests.scripted_model import ScriptedChatModel


@pytest.fixture
async def eager_engine(storage: Any) -> Any:
    model = ScriptedChatModel(script=eager_script)
    built = engine_on(storage, model)
    yield built, model
    await built.scheduler.close()


async def facts_of(engine: MemoryEngine, user_key: str) -> set[str]:
    memory = await engine.repository.load(user_key)
    return {str(item.data["content"]) for item in memory.facts.values()}


@pytest.mark.parametrize("small_talk", ["ok thanks", "haha nice", "what's the weather like?"])
async def test_small_talk_writes_nothing(eager_engine: Any, small_talk: str) -> None:
    engine, model = eager_engine
    ana = person(unique("ana"))
    await engine.reply(say(ana, dm(ana), "My name is Ana. Remember that I keep bees."))
    await engine.learn_now(ana.key)
    before = await engine.repository.load(ana.key)
    assert {str(i.data["content"]) for i in before.facts.values()} == {"I keep bees"}

    await engine.reply(say(ana, dm(ana), small_talk))
    await engine.learn_now(ana.key)

    after = await engine.repository.load(ana.key)
    assert {str(i.data["content"]) for i in after.facts.values()} == {"I keep bees"}
    assert after.profiles == before.profiles
    # The model was asked, with the stored memory in view, and chose to call nothing.
    assert model.calls[-1].tools and "PatchDoc" in model.calls[-1].tools


async def test_something_worth_keeping_is_still_kept(eager_engine: Any) -> None:
    engine, _ = eager_engine
    ana = person(unique("ana"))
    await engine.reply(say(ana, dm(ana), "My name is Ana. Remember that I keep bees."))
    await engine.learn_now(ana.key)

    await engine.reply(say(ana, dm(ana), "I moved to Porto"))
    await engine.learn_now(ana.key)

    memory = await engine.repository.load(ana.key)
    assert memory.merged_profile()["location"] == "Porto"
    assert await facts_of(engine, ana.key) == {"I keep bees"}


async def test_a_forced_choice_is_what_made_the_junk() -> None:
    # The same model through trustcall's forced call (the behaviour this replaced).
    model = ScriptedChatModel(script=eager_script)
    existing = ExistingMemory(items={"aaaaa": ("fact", {"content": "I keep bees"})})
    forced_changes = await MemoryExtractor(model, forced_choice=True).learn(
        "Ana", existing, said("ok thanks")
    )
    left_changes = await MemoryExtractor(model).learn("Ana", existing, said("ok thanks"))

    assert [data["content"] for _, data in forced_changes.inserts] == ["ok thanks"]
    assert left_changes.empty


async def test_over_the_wire_the_model_is_not_made_to_call_a_tool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ChatOpenAI against the fake server: an eager model stores junk only when forced."""
    sent: list[Any] = []

    def eager(request: ChatRequest) -> FakeResponse:
        sent.append(request.tool_choice)
        if request.tool_choice in ("required", "any") or request.forced_tool_name():
            return FakeResponse.call("Fact", {"content": request.last_user_text()})
        return FakeResponse.text("Nothing worth keeping.")

    async with FakeOpenAI(eager) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        monkeypatch.setenv("LANGSMITH_TRACING", "false")
        model = init_chat_model("openai:gpt-test", max_retries=0)
        existing = ExistingMemory(items={"aaaaa": ("fact", {"content": "I keep bees"})})

        left = await MemoryExtractor(model).learn("Ana", existing, said("ok thanks"))
        forced_changes = await MemoryExtractor(model, forced_choice=True).learn(
            "Ana", existing, said("ok thanks")
        )

    assert left.empty
    assert sent[0] in (None, "auto")
    assert sent[1] == "required"
    assert forced_changes.inserts
