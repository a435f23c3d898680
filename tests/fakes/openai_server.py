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
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import re
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Self, TypeAlias

from aiohttp import web

__all__ = [
    "ChatRequest",
    "FakeOpenAI",
    "FakeResponderError",
    "FakeResponse",
    "FakeToolCall",
    "Responder",
    "scripted",
]

JSON: TypeAlias = dict[str, Any]

_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    422: "unprocessable_entity_error",
    429: "rate_limit_exceeded",
}


def _text_of(content: Any) -> str:
    """Flatten an OpenAI message ``content`` (string or list of parts) into plain text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return str(content)


def _rough_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4) if text else 0


# --------------------------------------------------------------------------------------
# What the responder sees
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatRequest:
    """One ``POST /v1/chat/completions`` call, as the responder sees it."""

    body: JSON
    """The JSON body exactly as sent."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """The HTTP request headers (case-insensitive mapping)."""
    index: int = 0
    """0-based position of this call among the chat calls the server has received."""

    @property
    def messages(self) -> list[JSON]:
        """The ``messages`` list as sent (dicts with ``role``, ``content``, ...)."""
        return list(self.body.get("messages") or [])

    @property
    def tools(self) -> list[JSON]:
        """The tool *function* schemas (``{"name", "description", "parameters", ...}``)."""
        out: list[JSON] = []
        for tool in self.body.get("tools") or []:
            if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
                out.append(tool["function"])
        return out

    @property
    def tool_choice(self) -> Any:
        """``tool_choice`` as sent: ``None``, ``"auto"``, ``"required"``, or a dict."""
        return self.body.get("tool_choice")

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    def tool_names(self) -> list[str]:
        """Names of the offered tools, in the order sent."""
        return [str(t.get("name")) for t in self.tools]

    def tool_schema(self, name: str) -> JSON:
        """The JSON schema (``parameters``) of the tool called ``name``; KeyError if absent."""
        for tool in self.tools:
            if tool.get("name") == name:
                params = tool.get("parameters")
                return params if isinstance(params, dict) else {}
        raise KeyError(name)

    def forced_tool_name(self) -> str | None:
        """The tool name if ``tool_choice`` forces one specific function, else ``None``."""
        choice = self.tool_choice
        if isinstance(choice, dict):
            fn = choice.get("function")
            name = fn.get("name") if isinstance(fn, dict) else None
            if isinstance(name, str):
                return name
        return None

    def texts(self, role: str) -> list[str]:
        """The text of every message with ``role``, in order."""
        return [_text_of(m.get("content")) for m in self.messages if m.get("role") == role]

    def last_user_text(self) -> str:
        """Text of the last ``user`` message ("" if there is none)."""
        users = self.texts("user")
        return users[-1] if users else ""

    def system_text(self) -> str:
        """All ``system`` (and ``developer``) message texts joined by blank lines."""
        return "\n\n".join(
            _text_of(m.get("content"))
            for m in self.messages
            if m.get("role") in ("system", "developer")
        )

    def all_text(self) -> str:
        """Every message's text joined by newlines (handy for ``in`` checks)."""
        return "\n".join(_text_of(m.get("content")) for m in self.messages)

    def last_message(self) -> JSON:
        msgs = self.messages
        return msgs[-1] if msgs else {}

    def tool_results(self) -> list[JSON]:
        """The ``role == "tool"`` messages (results of earlier tool calls)."""
        return [m for m in self.messages if m.get("role") == "tool"]


# --------------------------------------------------------------------------------------
# What the responder returns
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


class FakeOpenAI:
    """An aiohttp OpenAI-compatible server on ``127.0.0.1:<free port>``.

    ``async with FakeOpenAI(responder) as fake:`` starts it; ``fake.base_url`` is
    ``"http://127.0.0.1:<port>/v1"``. ``fake.requests`` holds every chat request body and
    ``fake.chat_requests`` the matching :class:`ChatRequest` (with headers). The responder can
    be swapped at any time by assigning ``fake.responder``.

    If the responder raises, the client gets a 500 and, unless ``raise_responder_errors`` is
    false, leaving the ``async with`` block raises :class:`FakeResponderError`.

    Responses carry ``Connection: close`` unless ``keep_alive=True`` (see
    ``_close_connection`` for why).
    """

    def __init__(
        self,
        responder: Responder,
        *,
        models: Sequence[str] = ("gpt-test",),
        api_key: str | None = None,
        host: str = "127.0.0.1",
        raise_responder_errors: bool = True,
        keep_alive: bool = False,
    ) -> None:
        self.responder: Responder = responder
        self.models: list[str] = list(models)
        self.api_key = api_key
        self.host = host
        self.raise_responder_errors = raise_responder_errors
        self.keep_alive = keep_alive
        self.requests: list[JSON] = []
        self.chat_requests: list[ChatRequest] = []
        self.unhandled: list[tuple[str, str]] = []
        self.responder_errors: list[BaseException] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._ids = itertools.count(1)

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeOpenAI is not running")
        return self._port

    @property
    def url(self) -> str:
        """Server root, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """OpenAI base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"{self.url}/v1"

    async def start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/v1/models/{model}", self._get_model)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        if not self.keep_alive:
            app.on_response_prepare.append(_close_connection)
        # handler_cancellation: a client that gives up (timeout tests) cancels the handler
        # instead of leaving it sleeping; shutdown_timeout keeps close() quick.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((self.host, 0))
            sock.setblocking(False)
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._port = int(sock.getsockname()[1])
        self._runner = runner

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
        if exc is None and self.raise_responder_errors and self.responder_errors:
            first = self.responder_errors[0]
            raise FakeResponderError(
                f"responder raised {len(self.responder_errors)} time(s); first: {first!r}"
            ) from first

    def reset(self) -> None:
        """Forget recorded requests and responder errors."""
        self.requests.clear()
        self.chat_requests.clear()
        self.unhandled.clear()
        self.responder_errors.clear()

    # -- handlers ------------------------------------------------------------------------

    def _error(
        self,
        status: int,
        message: str,
        *,
        error_type: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        etype = error_type or _ERROR_TYPES.get(status) or "server_error"
        body = {"error": {"message": message, "type": etype, "param": None, "code": code}}
        return web.json_response(body, status=status, headers=dict(headers or {}))

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        if self.api_key is None:
            return None
        if request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        return self._error(401, "Incorrect API key provided.", code="invalid_api_key")

    async def _not_found(self, request: web.Request) -> web.Response:
        self.unhandled.append((request.method, request.path))
        return self._error(
            404, f"Unknown request URL: {request.method} {request.path}.", code="unknown_url"
        )

    def _model_json(self, model: str) -> JSON:
        return {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "fake"}

    async def _list_models(self, request: web.Request) -> web.Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        return web.json_response(
            {"object": "list", "data": [self._model_json(m) for m in self.models]}
        )

    async def _get_model(self, request: web.Request) -> web.Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        model = request.match_info["model"]
        if model not in self.models:
            return self._error(404, f"The model '{model}' does not exist", code="model_not_found")
        return web.json_response(self._model_json(model))

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return self._error(400, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict):
            return self._error(400, "The request body must be a JSON object.")

        chat = ChatRequest(body=body, headers=request.headers, index=len(self.chat_requests))
        self.requests.append(body)
        self.chat_requests.append(chat)

        try:
            result = self.responder(chat)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            self.responder_errors.append(exc)
            return self._error(500, f"fake responder raised: {exc!r}")
        if isinstance(result, str):
            result = FakeResponse.text(result)
        if not isinstance(result, FakeResponse):
            err = TypeError(f"responder returned {type(result).__name__}, not FakeResponse")
            self.responder_errors.append(err)
            return self._error(500, str(err))

        if result.delay > 0:
            await asyncio.sleep(result.delay)

        if result.is_error:
            headers = dict(result.headers)
            if result.retry_after is not None:
                headers["Retry-After"] = f"{result.retry_after:g}"
                headers["retry-after-ms"] = str(round(result.retry_after * 1000))
            code = result.error_code
            if code is None and result.status == 429:
                code = "rate_limit_exceeded"
            return self._error(
                result.status,
                result.error_message or "error",
                error_type=result.error_type,
                code=code,
                headers=headers,
            )

        completion_id = f"chatcmpl-fake-{next(self._ids)}"
        tool_calls = [
            (call.id or f"call_{uuid.uuid4().hex[:24]}", call) for call in result.tool_calls
        ]
        usage = self._usage(body, result)
        if chat.stream:
            return await self._stream(request, chat, result, completion_id, tool_calls, usage)

        message: JSON = {
            "role": "assistant",
            "content": result.content if (result.content or not tool_calls) else None,
            "refusal": None,
        }
        if tool_calls:
            message["tool_calls"] = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments_json()},
                }
                for call_id, call in tool_calls
            ]
        payload: JSON = {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": chat.model,
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": result.resolved_finish_reason(),
                }
            ],
            "usage": usage,
        }
        return web.json_response(payload, headers=dict(result.headers))

    @staticmethod
    def _usage(body: JSON, result: FakeResponse) -> JSON:
        prompt_chars = json.dumps(body.get("messages", [])) + json.dumps(body.get("tools", []))
        completion_chars = result.content + "".join(
            c.name + c.arguments_json() for c in result.tool_calls
        )
        prompt = _rough_tokens(prompt_chars)
        completion = _rough_tokens(completion_chars)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    async def _stream(
        self,
        request: web.Request,
        chat: ChatRequest,
        result: FakeResponse,
        completion_id: str,
        tool_calls: list[tuple[str, FakeToolCall]],
        usage: JSON,
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                **result.headers,
            },
        )
        await response.prepare(request)
        created = int(time.time())

        def chunk(delta: JSON, finish_reason: str | None = None) -> JSON:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": chat.model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {
                        "index": 0,
                        "delta": delta,
                        "logprobs": None,
                        "finish_reason": finish_reason,
                    }
                ],
            }

        def events() -> Iterator[JSON]:
            yield chunk({"role": "assistant", "content": "", "refusal": None})
            for piece in _split_words(result.content):
                yield chunk({"content": piece})
            for index, (call_id, call) in enumerate(tool_calls):
                yield chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": call_id,
                                "type": "function",
                                "function": {"name": call.name, "arguments": ""},
                            }
                        ]
                    }
                )
                for piece in _split_fixed(call.arguments_json(), 16):
                    yield chunk(
                        {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                    )
            yield chunk({}, result.resolved_finish_reason())
            options = chat.body.get("stream_options") or {}
            if isinstance(options, dict) and options.get("include_usage"):
                final = chunk({})
                final["choices"] = []
                final["usage"] = usage
                yield final

        for i, event in enumerate(events()):
            if i and result.chunk_delay > 0:
                await asyncio.sleep(result.chunk_delay)
            await response.write(f"data: {json.dumps(event)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


async def _close_connection(request: web.Request, response: web.StreamResponse) -> None:
    # langchain-openai shares one cached httpx client per (openai_api_base, timeout); with
    # only OPENAI_BASE_URL set that key is the same in every test, so pooled keep-alive
    # connections would outlive the test's event loop and this server. "Connection: close"
    # leaves nothing in the pool. (aiohttp has already computed the headers by the time this
    # hook runs, so the header is set by hand as well as closing the connection.)
    response.force_close()
    response.headers["Connection"] = "close"


def _split_words(text: str) -> list[str]:
    """Split text into word-ish streaming pieces that concatenate back to ``text``."""
    return re.findall(r"\S+\s*|\s+", text)


def _split_fixed(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
