"""A scripted tool-calling chat model, so trustcall and the graph run for real in tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from pydantic import PrivateAttr


def tool_name(tool: Any) -> str:
    if isinstance(tool, dict):
        return str(tool.get("function", tool).get("name") or tool.get("title"))
    return str(getattr(tool, "name", None) or tool.__name__)


@dataclass
class ScriptedCall:
    """What the model was asked: the messages, the bound tool names and the tool choice."""

    messages: list[BaseMessage]
    tools: list[str] = field(default_factory=list)
    tool_choice: Any = None

    @property
    def system(self) -> str:
        return "\n".join(m.text for m in self.messages if isinstance(m, SystemMessage))

    @property
    def last_text(self) -> str:
        return self.messages[-1].text if self.messages else ""


Script = Callable[[ScriptedCall], AIMessage]


def call(tool: str, /, **args: Any) -> dict[str, Any]:
    """A tool call as AIMessage.tool_calls wants it."""
    return {"name": tool, "args": args, "id": f"call_{uuid.uuid4().hex[:10]}", "type": "tool_call"}


class ScriptedChatModel(BaseChatModel):
    """Answers each call with `script(call)`; records every call; optional latency and failures."""

    script: Any
    latency: float = 0.0
    _calls: list[ScriptedCall] = PrivateAttr(default_factory=list)

    @property
    def calls(self) -> list[ScriptedCall]:
        return self._calls

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any
    ) -> Runnable[Any, AIMessage]:
        return self.bind(tools=list(tools), tool_choice=tool_choice, **kwargs)

    def _respond(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> ChatResult:
        scripted = ScriptedCall(
            list(messages),
            [tool_name(t) for t in kwargs.get("tools") or []],
            kwargs.get("tool_choice"),
        )
        self._calls.append(scripted)
        message = self.script(scripted)
        if not message.id:
            message.id = f"run-{uuid.uuid4().hex}"
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._respond(messages, kwargs)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency:
            await asyncio.sleep(self.latency)
        return self._respond(messages, kwargs)
