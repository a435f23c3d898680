"""An OpenAI-compatible fake chat-completions server for end-to-end tests.

Usage::

    def responder(req: ChatRequest) -> FakeResponse:
        if "Memory" in req.tool_names():
            return FakeResponse.call("Memory", {"content": req.last_user_text()})
        return FakeResponse.text("hello")

    async with FakeOpenAI(responder) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        ...
        assert fake.requests[0]["model"] == "gpt-test"

The server speaks the parts of the API that ``openai``/``langchain-openai`` use for chat:
``POST /v1/chat/completions`` (JSON, or server-sent events when ``"stream": true``) and
``GET /v1/models``.  Anything else answers 404 in the OpenAI error format and is recorded in
``FakeOpenAI.unhandled`` so a test can notice, e.g., an unexpected ``/v1/responses`` call.

The parts: ``request`` (what the responder sees), ``response`` (what it returns),
``completion`` and ``streaming`` (the answer as one JSON body or as server-sent events) and
``server`` (FakeOpenAI).
"""

from .request import JSON, ChatRequest
from .response import (
    FakeResponderError,
    FakeResponse,
    FakeToolCall,
    Responder,
    ResponderResult,
    ToolCallLike,
    scripted,
)
from .server import FakeOpenAI

__all__ = [
    "JSON",
    "ChatRequest",
    "FakeOpenAI",
    "FakeResponderError",
    "FakeResponse",
    "FakeToolCall",
    "Responder",
    "ResponderResult",
    "ToolCallLike",
    "scripted",
]
