"""Counting LLM calls and tokens by phase (learning a history, answering a question).

A LangChain callback handler attached to the model: every call the engine makes, trustcall's
included, passes through it. The phase is a ContextVar set by the runner around each step, so
concurrent questions are told apart. Tokens are the provider's `usage_metadata` when it
reports one; otherwise (the scripted model) they are estimated as characters / 4 and the
report says so.
"""

from __future__ import annotations

from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult

PHASE: ContextVar[str] = ContextVar("quality_phase", default="other")
CHARS_PER_TOKEN = 4


@dataclass
class PhaseUsage:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False


class UsageMeter(AsyncCallbackHandler):
    """Calls and tokens per phase; `by_phase[phase]` is a PhaseUsage."""

    def __init__(self) -> None:
        self.by_phase: dict[str, PhaseUsage] = defaultdict(PhaseUsage)
        self._started: dict[UUID, tuple[str, int]] = {}

    async def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        chars = sum(len(m.text) for batch in messages for m in batch)
        self._started[run_id] = (PHASE.get(), chars)

    async def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        phase, chars = self._started.pop(run_id, (PHASE.get(), 0))
        usage = self.by_phase[phase]
        usage.calls += 1
        reported = _usage(response)
        if reported is None:
            usage.estimated = True
            usage.input_tokens += chars // CHARS_PER_TOKEN
            usage.output_tokens += _output_chars(response) // CHARS_PER_TOKEN
        else:
            usage.input_tokens += reported[0]
            usage.output_tokens += reported[1]

    async def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        phase, _ = self._started.pop(run_id, (PHASE.get(), 0))
        self.by_phase[phase].calls += 1


def _usage(response: LLMResult) -> tuple[int, int] | None:
    for generations in response.generations:
        for generation in generations:
            message = getattr(generation, "message", None)
            meta = getattr(message, "usage_metadata", None)
            if meta:
                return int(meta.get("input_tokens", 0)), int(meta.get("output_tokens", 0))
    return None


def _output_chars(response: LLMResult) -> int:
    total = 0
    for generations in response.generations:
        for generation in generations:
            message = getattr(generation, "message", None)
            total += len(generation.text or "")
            for call in getattr(message, "tool_calls", None) or []:
                total += len(str(call.get("args", "")))
    return total
