"""What the responder returns: FakeResponse and FakeToolCall, and the scripted responder."""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

from .request import ChatRequest


@dataclass(frozen=True)
class FakeToolCall:
    """A tool call the fake model makes. ``arguments`` may be a raw string (e.g. bad JSON)."""

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    def arguments_json(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(dict(self.arguments))


ToolCallLike: TypeAlias = FakeToolCall | tuple[str, Mapping[str, Any] | str]


def _as_tool_call(call: ToolCallLike) -> FakeToolCall:
    if isinstance(call, FakeToolCall):
        return call
    name, arguments = call
    return FakeToolCall(name, arguments)


@dataclass(frozen=True)
class FakeResponse:
    """The fake model's answer: text and/or tool calls, or an HTTP error.

    Build with :meth:`text`, :meth:`call`, :meth:`calls` or :meth:`error`.
    ``delay`` sleeps (asynchronously) before answering; ``chunk_delay`` sleeps between
    streamed chunks.
    """

    content: str = ""
    tool_calls: tuple[FakeToolCall, ...] = ()
    status: int = 200
    error_message: str = ""
    error_type: str | None = None
    error_code: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    finish_reason: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, content: str, *, delay: float = 0.0) -> FakeResponse:
        """A plain assistant text answer (``finish_reason="stop"``)."""
        return cls(content=content, delay=delay)

    @classmethod
    def call(
        cls,
        name: str,
        arguments: Mapping[str, Any] | str,
        *,
        id: str | None = None,
        content: str = "",
        delay: float = 0.0,
    ) -> FakeResponse:
        """One tool call (``finish_reason="tool_calls"``)."""
        return cls(content=content, tool_calls=(FakeToolCall(name, arguments, id),), delay=delay)

    @classmethod
    def calls(
        cls, calls: Iterable[ToolCallLike], *, content: str = "", delay: float = 0.0
    ) -> FakeResponse:
        """Several tool calls; each a :class:`FakeToolCall` or ``(name, arguments)``."""
        return cls(content=content, tool_calls=tuple(_as_tool_call(c) for c in calls), delay=delay)

    @classmethod
    def error(
        cls,
        status: int = 500,
        message: str = "The fake server had an error while processing your request.",
        *,
        retry_after: float | None = None,
        error_type: str | None = None,
        code: str | None = None,
        delay: float = 0.0,
    ) -> FakeResponse:
        """An HTTP error with an OpenAI-style ``{"error": {...}}`` body.

        ``retry_after`` sets ``Retry-After`` (seconds) and ``retry-after-ms`` headers, which
        the openai client honours when between 0 and 60 seconds.
        """
        if status < 400:
            raise ValueError(f"error status must be >= 400, got {status}")
        return cls(
            status=status,
            error_message=message,
            error_type=error_type,
            error_code=code,
            retry_after=retry_after,
            delay=delay,
        )

    @property
    def is_error(self) -> bool:
        return self.status >= 400

    def with_delay(self, seconds: float) -> FakeResponse:
        return replace(self, delay=seconds)

    def resolved_finish_reason(self) -> str:
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"


ResponderResult: TypeAlias = FakeResponse | str
Responder: TypeAlias = Callable[[ChatRequest], ResponderResult | Awaitable[ResponderResult]]
"""Sync or async callable; a bare ``str`` return is shorthand for ``FakeResponse.text``."""


def scripted(*responses: ResponderResult) -> Callable[[ChatRequest], FakeResponse]:
    """A responder that returns ``responses`` in order and fails if asked for more."""
    queue = list(responses)
    served = itertools.count()

    def responder(request: ChatRequest) -> FakeResponse:
        n = next(served)
        if n >= len(queue):
            raise AssertionError(
                f"scripted responder exhausted: call #{n + 1} but only {len(queue)} scripted;"
                f" last user text: {request.last_user_text()!r}"
            )
        item = queue[n]
        return FakeResponse.text(item) if isinstance(item, str) else item

    return responder


class FakeResponderError(AssertionError):
    """Raised on leaving ``async with FakeOpenAI(...)`` if the responder raised."""
