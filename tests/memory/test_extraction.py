"""trustcall driven for real by a scripted tool-calling model: create, patch, insert, delete."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage

from memory.errors import ExtractionFailed, ModelUnavailable
from memory.learning.extraction import ExistingMemory, MemoryExtractor
from memory.learning.pending import PendingMessage
from tests.rules import existing_docs
from tests.scripted_model import ScriptedCall, ScriptedChatModel, call


def said(text: str) -> list[PendingMessage]:
    return [
        PendingMessage(
            text=text,
            author="Alice",
            message_id="m1",
            conversation="test:dm:alice",
            platform="test",
            audience="dm",
        )
    ]


def scripted(*answers: Any) -> ScriptedChatModel:
    """Answers in order; each answer is a list of tool calls or a callable over the call."""
    queue = list(answers)

    def script(request: ScriptedCall) -> AIMessage:
        answer = queue.pop(0) if queue else []
        calls = answer(request) if callable(answer) else answer
        return AIMessage(content="", tool_calls=calls)

    return ScriptedChatModel(script=script)


def patch(doc_id: str, *ops: dict[str, Any]) -> dict[str, Any]:
    return call("PatchDoc", json_doc_id=doc_id, planned_edits="edit", patches=list(ops))


async def test_profile_is_created_from_nothing() -> None:
    model = scripted([call("Profile", name="Alice", role="SRE")])
    changes = await MemoryExtractor(model).learn(
        "Alice", ExistingMemory(), said("I'm Alice, an SRE")
    )
    profile = changes.profiles["profile"]
    assert profile["name"] == "Alice" and profile["role"] == "SRE"


async def test_profile_patch_keeps_existing_fields() -> None:
    stored = {"name": "Alice", "role": "SRE", "languages": ["en"], "location": "Berlin"}
    model = scripted([patch("profile", {"op": "replace", "path": "/location", "value": "Lisbon"})])
    changes = await MemoryExtractor(model).learn(
        "Alice", ExistingMemory(profiles={"profile": stored}), said("I moved to Lisbon")
    )
    assert changes.profiles == {"profile": {**Profile_defaults(), **stored, "location": "Lisbon"}}
    # The model was shown the stored document to patch, not asked to rewrite it.
    shown = existing_docs(model.calls[0].system)
    assert shown["profile"][1]["role"] == "SRE"


def Profile_defaults() -> dict[str, Any]:
    from memory.schemas import Profile

    return Profile().model_dump(mode="json")


async def test_collection_insert_update_and_delete_in_one_pass() -> None:
    existing = ExistingMemory(
        items={
            "aaaaa": ("fact", {"content": "I keep bees", "category": None}),
            "bbbbb": ("fact", {"content": "I work on billing", "category": "work"}),
            "ccccc": ("todo", {"task": "renew passport", "due": None, "status": "open"}),
        }
    )
    model = scripted(
        [
            call("Fact", content="I play the cello"),
            patch("bbbbb", {"op": "replace", "path": "/content", "value": "I work on payments"}),
            patch("ccccc", {"op": "replace", "path": "/status", "value": "done"}),
            call("RemoveDoc", json_doc_id="aaaaa"),
        ]
    )
    changes = await MemoryExtractor(model).learn("Alice", existing, said("..."))
    assert changes.inserts == [
        ("fact", {"content": "I play the cello", "category": None, "subject": "self", "when": None})
    ]
    assert changes.updates["bbbbb"]["content"] == "I work on payments"
    assert changes.updates["ccccc"]["status"] == "done"
    assert changes.deletes == {"aaaaa"}


async def test_a_validation_error_is_retried_and_fixed() -> None:
    # First a Todo with a status the schema forbids, then the fix trustcall asks for.
    def fix(request: ScriptedCall) -> list[dict[str, Any]]:
        assert "PatchFunctionErrors" in request.tools
        bad_id = request.messages[-1].tool_call_id  # type: ignore[attr-defined]
        return [
            call(
                "PatchFunctionErrors",
                json_doc_id=bad_id,
                planned_edits="status must be open or done",
                patches=[{"op": "replace", "path": "/status", "value": "open"}],
            )
        ]

    model = scripted([call("Todo", task="call mum", status="someday")], fix)
    changes = await MemoryExtractor(model).learn("Alice", ExistingMemory(), said("remind me"))
    assert changes.inserts == [("todo", {"task": "call mum", "due": None, "status": "open"})]
    assert len(model.calls) == 2


async def test_a_model_that_never_fixes_the_error_changes_nothing() -> None:
    def never_fixes(request: ScriptedCall) -> list[dict[str, Any]]:
        bad_id = request.messages[-1].tool_call_id  # type: ignore[attr-defined]
        return [
            call(
                "PatchFunctionErrors",
                json_doc_id=bad_id,
                planned_edits="no idea",
                patches=[{"op": "replace", "path": "/status", "value": "later"}],
            )
        ]

    model = scripted([call("Todo", task="call mum", status="someday")], *[never_fixes] * 10)
    extractor = MemoryExtractor(model, max_attempts=3)
    with pytest.raises(ExtractionFailed):
        await extractor.learn("Alice", ExistingMemory(), said("remind me"))
    assert len(model.calls) <= 4  # capped: one extraction and at most three repairs


async def test_a_model_that_keeps_raising_is_capped() -> None:
    def explode(_request: ScriptedCall) -> AIMessage:
        raise RuntimeError("provider error")

    model = ScriptedChatModel(script=explode)
    existing = ExistingMemory(profiles={"profile": {"name": "Alice"}})
    with pytest.raises(ModelUnavailable):
        await MemoryExtractor(model, recursion_limit=8).learn("Alice", existing, said("x"))
    assert len(model.calls) <= 8  # not the ~25 calls of an uncapped run


async def test_the_system_message_is_built_fresh_for_every_call() -> None:
    model = scripted([], [])
    extractor = MemoryExtractor(model)
    existing = ExistingMemory(profiles={"profile": {"name": "Alice"}})
    await extractor.learn("Alice", existing, said("hello"))
    await extractor.learn("Alice", existing, said("hello again"))
    first, second = (c.system for c in model.calls)
    assert first.count("<existing>") == 1 and second.count("<existing>") == 1
