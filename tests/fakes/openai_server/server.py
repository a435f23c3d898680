"""FakeOpenAI: the aiohttp server that answers chat completions and models, and records calls."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import uuid
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self

from aiohttp import web

from .._server import serve
from .completion import completion_body, usage
from .request import JSON, ChatRequest
from .response import FakeResponderError, FakeResponse, Responder
from .streaming import stream_completion

_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    422: "unprocessable_entity_error",
    429: "rate_limit_exceeded",
}


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
        runner, port = await serve(
            app, self.host, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        self._port = port
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
        counts = usage(body, result)
        if chat.stream:
            return await stream_completion(request, chat, result, completion_id, tool_calls, counts)
        payload = completion_body(chat, result, completion_id, tool_calls, counts)
        return web.json_response(payload, headers=dict(result.headers))


async def _close_connection(request: web.Request, response: web.StreamResponse) -> None:
    # langchain-openai shares one cached httpx client per (openai_api_base, timeout); with
    # only OPENAI_BASE_URL set that key is the same in every test, so pooled keep-alive
    # connections would outlive the test's event loop and this server. "Connection: close"
    # leaves nothing in the pool. (aiohttp has already computed the headers by the time this
    # hook runs, so the header is set by hand as well as closing the connection.)
    response.force_close()
    response.headers["Connection"] = "close"
