"""A model call that failed for a reason outside the bot (provider down, wrong address, bad
key, unknown model), told in one line: these repeat on every message, and a traceback each
time would bury the log without saying more."""

from __future__ import annotations

# Exception class names from the provider SDKs and HTTP clients (openai, anthropic, httpx,
# aiohttp, ollama), matched by name so the core imports none of them.
_KINDS = {
    "APIConnectionError": "cannot reach the model server",
    "APITimeoutError": "the model server did not answer in time",
    "ConnectError": "cannot reach the model server",
    "ConnectTimeout": "the model server did not answer in time",
    "ClientConnectorError": "cannot reach the model server",
    "ConnectionError": "cannot reach the model server",
    "TimeoutError": "the model server did not answer in time",
    "AuthenticationError": "the model server refused the API key",
    "PermissionDeniedError": "the model server refused the API key",
    "NotFoundError": "the model server has no such model or path",
    "RateLimitError": "the model provider is rate limiting or out of quota",
    "InternalServerError": "the model server failed",
    "ResponseError": "the model server refused the request",
    "OpenAIError": "the model client is not configured",
}
# What to check for each kind, for the start-up check's message.
_CAUSES = {
    "cannot reach the model server": "address",
    "the model server did not answer in time": "address",
    "the model server has no such model or path": "address",
    "the model server refused the API key": "key",
    "the model client is not configured": "key",
}


def model_failure(error: BaseException) -> str | None:
    """One line for a known outside failure (`"cannot reach the model server
    (APIConnectionError: Connection error.)"`), or None for anything else (a bug: log it
    with its traceback)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for cls in type(current).__mro__:
            kind = _KINDS.get(cls.__name__)
            if kind:
                detail = str(current).splitlines()[0][:200] if str(current) else ""
                return f"{kind} ({type(current).__name__}: {detail})" if detail else kind
        current = current.__cause__ or current.__context__
    return None


def failure_cause(line: str) -> str:
    """ "address" or "key": which setting a failure from `model_failure` points at."""
    return next((cause for kind, cause in _CAUSES.items() if line.startswith(kind)), "address")
