"""The JSON of a chat completion answered in one piece: the assistant message and its usage."""

from __future__ import annotations

import json
import time
from typing import TypeAlias

from .request import JSON, ChatRequest
from .response import FakeResponse, FakeToolCall

ToolCalls: TypeAlias = list[tuple[str, FakeToolCall]]
"""The answer's tool calls, each with the id it is sent under."""


def _rough_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4) if text else 0


def usage(body: JSON, result: FakeResponse) -> JSON:
    """Token counts of a request body and its answer, roughly four characters a token."""
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


def completion_body(
    chat: ChatRequest,
    result: FakeResponse,
    completion_id: str,
    tool_calls: ToolCalls,
    usage: JSON,
) -> JSON:
    """A ``chat.completion`` object with one choice: ``result`` as the assistant message."""
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
    return {
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
