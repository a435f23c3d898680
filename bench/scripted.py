"""The scripted LLM the benchmarks use: the tests' rule-based stand-in, with light bookkeeping.

`BenchModel` answers exactly like `tests.scripted_model.ScriptedChatModel` driven by
`tests.rules.memory_script`, but it does not keep every prompt (that would grow memory
quadratically over a long conversation) and instead records, per call, what kind of call it
was (a reply, an extraction or something else such as a summary), how long it took, how
big the prompt was and how much CPU the script itself used (so the stand-in's own parsing
can be told apart from the engine's).
"""

from __future__ import annotations

import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.messages import BaseMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from tests.rules import memory_script
from tests.scripted_model import ScriptedCall, ScriptedChatModel, tool_name

__all__ = ["TURN_CALLS", "BenchModel", "CallRecord", "ScriptedChatModel", "memory_script"]


@dataclass(frozen=True)
class CallRecord:
    kind: str  # "chat" (a reply), "extract" (trustcall) or "other" (e.g. a summary)
    seconds: float  # wall time of the call, including the configured latency
    prompt_chars: int
    script_cpu: float  # CPU seconds spent in the rule-based script (the stand-in's own cost)


# Set by a driver around one reply, so it can tell which LLM calls that reply made.
TURN_CALLS: ContextVar[list[CallRecord] | None] = ContextVar("bench_turn_calls", default=None)


def call_kind(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    if kwargs.get("tools"):
        return "extract"
    system = messages[0].text if messages and isinstance(messages[0], SystemMessage) else ""
    return "chat" if "<memory>" in system else "other"


class BenchModel(ScriptedChatModel):
    """ScriptedChatModel(script=memory_script) that records CallRecords instead of prompts."""

    script: Any = memory_script
    # The stand-in's chat reply echoes the whole recalled memory block; a real reply does not
    # grow with memory, so replies are cut to a typical length (the same for every design).
    max_reply_chars: int = 1000
    _records: list[CallRecord] = PrivateAttr(default_factory=list)
    _last_script_cpu: float = PrivateAttr(default=0.0)

    @property
    def records(self) -> list[CallRecord]:
        return self._records

    def count(self, kind: str) -> int:
        return sum(1 for r in self._records if r.kind == kind)

    def _respond(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> ChatResult:
        started = time.thread_time()
        scripted = ScriptedCall(
            list(messages),
            [tool_name(t) for t in kwargs.get("tools") or []],
            kwargs.get("tool_choice"),
        )
        message = self.script(scripted)
        if not scripted.tools and isinstance(message.content, str):
            message.content = message.content[: self.max_reply_chars]
        if not message.id:
            message.id = f"run-{uuid.uuid4().hex}"
        self._last_script_cpu = time.thread_time() - started
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        started = time.perf_counter()
        result = await super()._agenerate(messages, stop, run_manager, **kwargs)
        record = CallRecord(
            kind=call_kind(messages, kwargs),
            seconds=time.perf_counter() - started,
            prompt_chars=sum(len(m.text) for m in messages),
            script_cpu=self._last_script_cpu,
        )
        self._records.append(record)
        turn = TURN_CALLS.get()
        if turn is not None:
            turn.append(record)
        return result
