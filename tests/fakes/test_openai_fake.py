"""The fake OpenAI server, exercised through the real openai / langchain / trustcall stack."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from langchain.chat_models import init_chat_model
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from pydantic import BaseModel, Field
from trustcall import create_extractor

from .openai_server import (
    ChatRequest,
    FakeOpenAI,
    FakeResponderError,
    FakeResponse,
    FakeToolCall,
    scripted,
)


class GetWeather(BaseModel):
    """Get the current weather for a city."""

    city: str = Field(description="City name")


class UserProfile(BaseModel):
    """What we know about the user."""

    name: str
    city: str
    hobbies: list[str] = Field(default_factory=list)


def _no_responder(request: ChatRequest) -> FakeResponse:
    raise AssertionError("test did not set fake.responder")


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(_no_responder) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        # Anything that would send the client somewhere other than the fake server.
        for var in ("OPENAI_API_BASE", "LANGSMITH_GATEWAY", "LANGSMITH_GATEWAY_API_KEY"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("LANGSMITH_TRACING", "false")
        monkeypatch.setenv("LANGCHAIN_TRACING_V2", "false")
        yield server


def _model(**kwargs: Any) -> BaseChatModel:
    model: BaseChatModel = init_chat_model("openai:gpt-test", **kwargs)
    return model


async def test_text_via_ainvoke(fake: FakeOpenAI) -> None:
    def responder(req: ChatRequest) -> FakeResponse:
        return FakeResponse.text(f"[{req.system_text()}] you said: {req.last_user_text()}")

    fake.responder = responder
    msg = await _model().ainvoke([("system", "be brief"), ("user", "hello fake")])

    assert isinstance(msg, AIMessage)
    assert msg.content == "[be brief] you said: hello fake"
    assert msg.tool_calls == []
    assert msg.response_metadata["finish_reason"] == "stop"
    assert msg.response_metadata["model_name"] == "gpt-test"
    assert msg.usage_metadata is not None
    assert msg.usage_metadata["input_tokens"] > 0
    assert msg.usage_metadata["output_tokens"] == len(msg.content) // 4 + 1
    # What went over the wire: chat completions, non-streaming, our API key.
    assert len(fake.requests) == 1
    body = fake.requests[0]
    assert body["model"] == "gpt-test"
    assert body["stream"] is False
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello fake"},
    ]
    assert fake.chat_requests[0].headers["Authorization"] == "Bearer test"
    assert fake.unhandled == []


async def test_async_responder_and_plain_str(fake: FakeOpenAI) -> None:
    async def responder(req: ChatRequest) -> str:
        await asyncio.sleep(0)
        return req.last_user_text().upper()

    fake.responder = responder
    msg = await _model().ainvoke("shout this")
    assert msg.content == "SHOUT THIS"


async def test_tool_calls_round_trip(fake: FakeOpenAI) -> None:
    def responder(req: ChatRequest) -> FakeResponse:
        if results := req.tool_results():
            return FakeResponse.text(f"It is {results[-1]['content']} in Oslo.")
        assert req.tool_names() == ["GetWeather"]
        assert req.tool_schema("GetWeather")["properties"]["city"]["type"] == "string"
        return FakeResponse.calls(
            [
                FakeToolCall("GetWeather", {"city": "Oslo"}, id="call_1"),
                ("GetWeather", {"city": "Bergen"}),
            ]
        )

    fake.responder = responder
    llm = _model().bind_tools([GetWeather])
    first = await llm.ainvoke("weather in Oslo?")

    assert isinstance(first, AIMessage)
    assert first.response_metadata["finish_reason"] == "tool_calls"
    assert [(tc["name"], tc["args"]) for tc in first.tool_calls] == [
        ("GetWeather", {"city": "Oslo"}),
        ("GetWeather", {"city": "Bergen"}),
    ]
    assert first.tool_calls[0]["id"] == "call_1"
    assert str(first.tool_calls[1]["id"]).startswith("call_")
    assert first.invalid_tool_calls == []

    history = [
        HumanMessage("weather in Oslo?"),
        first,
        ToolMessage("sunny", tool_call_id="call_1"),
        ToolMessage("rainy", tool_call_id=str(first.tool_calls[1]["id"])),
    ]
    second = await llm.ainvoke(history)
    assert second.content == "It is rainy in Oslo."
    # The assistant tool calls came back to the server in OpenAI wire format.
    sent_assistant = fake.requests[1]["messages"][1]
    assert sent_assistant["role"] == "assistant"
    assert sent_assistant["tool_calls"][0]["function"] == {
        "name": "GetWeather",
        "arguments": json.dumps({"city": "Oslo"}),
    }


async def test_forced_tool_choice_is_visible(fake: FakeOpenAI) -> None:
    seen: list[str | None] = []

    def responder(req: ChatRequest) -> FakeResponse:
        seen.append(req.forced_tool_name())
        return FakeResponse.call("GetWeather", {"city": "Rome"})

    fake.responder = responder
    msg = await _model().bind_tools([GetWeather], tool_choice="GetWeather").ainvoke("x")
    assert isinstance(msg, AIMessage)
    assert msg.tool_calls[0]["args"] == {"city": "Rome"}
    assert seen == ["GetWeather"]
    assert fake.requests[0]["tool_choice"] == {
        "type": "function",
        "function": {"name": "GetWeather"},
    }


async def test_malformed_tool_arguments_become_invalid_tool_calls(fake: FakeOpenAI) -> None:
    fake.responder = lambda req: FakeResponse.call("GetWeather", '{"city": ')
    msg = await _model().bind_tools([GetWeather]).ainvoke("x")
    assert isinstance(msg, AIMessage)
    assert msg.tool_calls == []
    assert msg.invalid_tool_calls[0]["name"] == "GetWeather"


async def test_streaming_text(fake: FakeOpenAI) -> None:
    fake.responder = lambda req: FakeResponse.text("one two three four")
    chunks: list[AIMessageChunk] = []
    async for chunk in _model().astream("count"):
        assert isinstance(chunk, AIMessageChunk)
        chunks.append(chunk)

    assert [c.content for c in chunks if c.content] == ["one ", "two ", "three ", "four"]
    total = chunks[0]
    for c in chunks[1:]:
        total += c
    assert total.content == "one two three four"
    assert total.response_metadata["finish_reason"] == "stop"
    assert fake.requests[0]["stream"] is True
    # With OPENAI_BASE_URL set, langchain-openai does not ask for streamed usage by default.
    assert "stream_options" not in fake.requests[0]
    assert total.usage_metadata is None


async def test_streaming_tool_calls_and_usage(fake: FakeOpenAI) -> None:
    fake.responder = lambda req: FakeResponse.calls(
        [("GetWeather", {"city": "Reykjavík, a long city name"}), ("GetWeather", {"city": "X"})],
        content="checking",
    )
    llm = _model(stream_usage=True).bind_tools([GetWeather])
    total: AIMessageChunk | None = None
    n_chunks = 0
    async for chunk in llm.astream("weather"):
        assert isinstance(chunk, AIMessageChunk)
        n_chunks += 1
        total = chunk if total is None else total + chunk

    assert total is not None
    assert n_chunks > 6  # arguments really arrived in pieces
    assert total.content == "checking"
    assert [(tc["name"], tc["args"]) for tc in total.tool_calls] == [
        ("GetWeather", {"city": "Reykjavík, a long city name"}),
        ("GetWeather", {"city": "X"}),
    ]
    assert total.response_metadata["finish_reason"] == "tool_calls"
    assert fake.requests[0]["stream_options"] == {"include_usage": True}
    assert total.usage_metadata is not None
    assert total.usage_metadata["total_tokens"] > 0


async def test_trustcall_extracts_new_instance(fake: FakeOpenAI) -> None:
    def responder(req: ChatRequest) -> FakeResponse:
        assert req.forced_tool_name() == "UserProfile"
        assert "UserProfile" in req.tool_names()
        assert "name" in req.tool_schema("UserProfile")["properties"]
        assert "Ada" in req.last_user_text()
        return FakeResponse.call(
            "UserProfile", {"name": "Ada", "city": "London", "hobbies": ["chess"]}
        )

    fake.responder = responder
    extractor = create_extractor(_model(), tools=[UserProfile], tool_choice="UserProfile")
    result = await extractor.ainvoke(
        {"messages": [("user", "I'm Ada, I live in London and play chess.")]}
    )

    assert result["responses"] == [UserProfile(name="Ada", city="London", hobbies=["chess"])]
    assert len(fake.requests) == 1


async def test_trustcall_patches_existing_instance(fake: FakeOpenAI) -> None:
    existing = {"name": "Ada", "city": "London", "hobbies": ["chess", "rowing"]}

    def responder(req: ChatRequest) -> FakeResponse:
        assert req.forced_tool_name() == "PatchDoc"
        assert req.tool_names() == ["PatchDoc"]
        # trustcall puts the existing document into the system prompt.
        assert "London" in req.system_text()
        assert "moved to Paris" in req.last_user_text()
        return FakeResponse.call(
            "PatchDoc",
            {
                "json_doc_id": "UserProfile",
                "planned_edits": "replace /city with Paris",
                "patches": [{"op": "replace", "path": "/city", "value": "Paris"}],
            },
        )

    fake.responder = responder
    extractor = create_extractor(_model(), tools=[UserProfile], tool_choice="UserProfile")
    result = await extractor.ainvoke(
        {
            "messages": [("user", "I moved to Paris last week.")],
            "existing": {"UserProfile": existing},
        }
    )

    assert result["responses"] == [
        UserProfile(name="Ada", city="Paris", hobbies=["chess", "rowing"])
    ]
    assert result["response_metadata"][0]["json_doc_id"] == "UserProfile"
    assert len(fake.requests) == 1


async def test_server_error_surfaces_as_openai_error(fake: FakeOpenAI) -> None:
    fake.responder = lambda req: FakeResponse.error(500, "kaboom")
    with pytest.raises(openai.InternalServerError) as info:
        await _model(max_retries=0).ainvoke("hi")

    assert info.value.status_code == 500
    assert isinstance(info.value.body, dict)
    assert info.value.body["message"] == "kaboom"
    assert info.value.body["type"] == "server_error"
    assert len(fake.requests) == 1


async def test_server_error_is_retried_by_default_client(fake: FakeOpenAI) -> None:
    fake.responder = lambda req: FakeResponse.error(503, "busy", retry_after=0.01)
    with pytest.raises(openai.InternalServerError):
        await _model(max_retries=2).ainvoke("hi")
    assert len(fake.requests) == 3
    retry_counts = [r.headers["x-stainless-retry-count"] for r in fake.chat_requests]
    assert retry_counts == ["0", "1", "2"]


async def test_rate_limit_with_retry_after_then_success(fake: FakeOpenAI) -> None:
    fake.responder = scripted(
        FakeResponse.error(429, "slow down", retry_after=0.05),
        "finally",
    )
    start = time.monotonic()
    msg = await _model(max_retries=1).ainvoke("hi")
    assert msg.content == "finally"
    assert time.monotonic() - start >= 0.05
    assert len(fake.requests) == 2


async def test_rate_limit_without_retries_raises(fake: FakeOpenAI) -> None:
    fake.responder = lambda req: FakeResponse.error(429, "slow down", retry_after=3)
    with pytest.raises(openai.RateLimitError) as info:
        await _model(max_retries=0).ainvoke("hi")
    assert info.value.response.headers["retry-after"] == "3"
    assert isinstance(info.value.body, dict)
    assert info.value.body["code"] == "rate_limit_exceeded"


async def test_delay_triggers_client_timeout(fake: FakeOpenAI) -> None:
    fake.responder = lambda req: FakeResponse.text("too late", delay=5)
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        await _model(timeout=0.2, max_retries=0).ainvoke("hi")
    assert time.monotonic() - start < 2


async def test_models_endpoint(fake: FakeOpenAI) -> None:
    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key="test")
    try:
        raw = await client.models.with_raw_response.list()
        assert raw.headers["connection"] == "close"  # nothing pooled across event loops
        assert [m.id for m in raw.parse().data] == ["gpt-test"]
        assert (await client.models.retrieve("gpt-test")).id == "gpt-test"
        with pytest.raises(openai.NotFoundError):
            await client.models.retrieve("nope")
    finally:
        await client.close()


async def test_unknown_endpoint_is_recorded(fake: FakeOpenAI) -> None:
    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key="test", max_retries=0)
    try:
        with pytest.raises(openai.NotFoundError):
            await client.embeddings.create(model="x", input="hi")
    finally:
        await client.close()
    assert fake.unhandled == [("POST", "/v1/embeddings")]


async def test_api_key_enforced(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeOpenAI(lambda req: "ok", api_key="right") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "wrong")
        with pytest.raises(openai.AuthenticationError):
            await _model(max_retries=0).ainvoke("hi")
        monkeypatch.setenv("OPENAI_API_KEY", "right")
        assert (await _model(max_retries=0).ainvoke("hi")).content == "ok"


async def test_responder_exception_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(req: ChatRequest) -> FakeResponse:
        raise KeyError("oops")

    with pytest.raises(FakeResponderError, match="oops"):
        async with FakeOpenAI(broken) as server:
            monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
            monkeypatch.setenv("OPENAI_API_KEY", "test")
            with pytest.raises(openai.InternalServerError):
                await _model(max_retries=0).ainvoke("hi")


async def test_scripted_runs_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FakeResponderError, match="exhausted"):
        async with FakeOpenAI(scripted("one")) as server:
            monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
            monkeypatch.setenv("OPENAI_API_KEY", "test")
            llm = _model(max_retries=0)
            assert (await llm.ainvoke("a")).content == "one"
            with pytest.raises(openai.InternalServerError):
                await llm.ainvoke("b")
