"""Letting the model decide whether anything is worth keeping, inside trustcall.

With stored memory, trustcall (0.0.39, `_ExtractUpdates`) binds its tools with
`tool_choice="any"`, so a real model *must* call one even for "ok thanks", and the likeliest
call is an insert of whatever was just said. Our instructions say "if nothing is worth
remembering, patch nothing", which a forced call makes impossible. This wrapper hands the
choice back to the model for that step ("auto", the provider's default when tools are bound,
as LangChain's memory-agent does with its memory tool): it costs no extra LLM call, unlike a
separate "anything worth keeping?" question before every extraction.

Only the update step is relaxed (its tools include PatchDoc); trustcall's repair step, which
must answer a validation error with a fix, stays forced. trustcall re-binds tools on
`binding.bound` for each run, so a binding made here keeps this wrapper as its `bound`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableBinding, RunnableConfig

FORCED = ("any", "required")
UPDATE_TOOL = "PatchDoc"


def _name(tool: Any) -> str:
    if isinstance(tool, dict):
        return str(tool.get("function", tool).get("name") or tool.get("title") or "")
    return str(getattr(tool, "name", None) or getattr(tool, "__name__", ""))


class ToolChoiceLeftToModel(Runnable[LanguageModelInput, BaseMessage]):
    """Wraps a chat model for trustcall: a forced tool choice on the update step becomes auto.

    Everything else (invoke, ainvoke, the bound kwargs) goes to the wrapped model unchanged.
    """

    def __init__(self, model: BaseChatModel) -> None:
        self.model = model

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, BaseMessage]:
        """The wrapped model's `bind_tools`, with `tool_choice` "any"/"required" dropped (so
        the provider's default, "auto", applies) when the tools include PatchDoc.

        The result is a RunnableBinding whose `bound` is this wrapper, because trustcall
        (0.0.39, `_ExtractUpdates`) re-binds through `binding.bound.bind_tools(...)`.
        """
        if tool_choice in FORCED and UPDATE_TOOL in {_name(t) for t in tools}:
            tool_choice = None  # the provider's default with tools bound: the model decides
        inner = self.model.bind_tools(tools, tool_choice=tool_choice, **kwargs)
        if not isinstance(inner, RunnableBinding):  # pragma: no cover - every chat model binds
            return inner
        return RunnableBinding(bound=self, kwargs=inner.kwargs, config=inner.config)

    def invoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> BaseMessage:
        """The wrapped model's `invoke` (LangChain Runnable API), unchanged."""
        return self.model.invoke(input, config, **kwargs)

    async def ainvoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> BaseMessage:
        """The wrapped model's `ainvoke` (LangChain Runnable API), unchanged."""
        return await self.model.ainvoke(input, config, **kwargs)
