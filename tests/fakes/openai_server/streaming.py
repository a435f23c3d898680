"""A chat completion streamed as server-sent events: word-sized text and 16-character args."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator

from aiohttp import web

from .completion import ToolCalls
from .request import JSON, ChatRequest
from .response import FakeResponse


async def stream_completion(
    request: web.Request,
    chat: ChatRequest,
    result: FakeResponse,
    completion_id: str,
    tool_calls: ToolCalls,
    usage: JSON,
) -> web.StreamResponse:
    """Answer ``request`` with ``result`` as ``chat.completion.chunk`` events, then [DONE]."""
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
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
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


def _split_words(text: str) -> list[str]:
    """Split text into word-ish streaming pieces that concatenate back to ``text``."""
    return re.findall(r"\S+\s*|\s+", text)


def _split_fixed(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
