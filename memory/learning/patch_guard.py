"""A chat model wrapper that turns a JSON patch removing a whole document into RemoveDoc.

Models asked to forget something sometimes answer trustcall with PatchDoc and
`{"op": "remove", "path": ""}`. jsonpatch refuses that ("can't remove the whole document"),
trustcall logs it and drops the call (trustcall 0.0.39, `_ExtractUpdates._teardown`), and the
message would be consumed as learned with nothing forgotten. Rewritten into trustcall's own
RemoveDoc call before trustcall sees it, it is a removal like any other: an erasure when the
person asked to forget, an undoable change when the model made it on its own (learning tells
the two apart, see memory.learning.rules.asks_to_forget).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable

PATCH_TOOL = "PatchDoc"
REMOVE_TOOL = "RemoveDoc"
WHOLE_DOCUMENT = ("", "/")


def _patches(args: dict[str, Any]) -> list[Any]:
    patches = args.get("patches")
    if isinstance(patches, str):
        try:
            patches = json.loads(patches)
        except ValueError:
            return []
    return patches if isinstance(patches, list) else []


def removes_whole_document(call: dict[str, Any]) -> bool:
    """True for a PatchDoc call with a `remove` of the document root."""
    if call.get("name") != PATCH_TOOL:
        return False
    return any(
        isinstance(p, dict) and p.get("op") == "remove" and p.get("path") in WHOLE_DOCUMENT
        for p in _patches(call.get("args") or {})
    )


def rewrite(message: AIMessage) -> AIMessage:
    """`message` with every whole-document removal turned into RemoveDoc for that document."""
    if not any(removes_whole_document(dict(c)) for c in message.tool_calls):
        return message
    calls = []
    for call in message.tool_calls:
        if removes_whole_document(dict(call)):
            doc_id = call["args"].get("json_doc_id")
            call = {**call, "name": REMOVE_TOOL, "args": {"json_doc_id": doc_id}}
        calls.append(call)
    return message.model_copy(update={"tool_calls": calls, "invalid_tool_calls": []})


class WholeRemoveAsDelete(BaseChatModel):
    """Delegates to `inner` (tools bound per call) and rewrites its tool calls (see module)."""

    inner: BaseChatModel

    @property
    def _llm_type(self) -> str:
        return f"whole-remove-as-delete({self.inner._llm_type})"

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any
    ) -> Runnable[Any, AIMessage]:
        """Bind `tools` (and `tool_choice`) to this wrapper, not to `inner`: they are passed to
        `inner` per call, after the wrapper has seen them, so it can rewrite the calls that come
        back."""
        return self.bind(tools=list(tools), tool_choice=tool_choice, **kwargs)

    def _bound(self, kwargs: dict[str, Any]) -> Runnable[Any, BaseMessage]:
        tools = kwargs.pop("tools", None)
        tool_choice = kwargs.pop("tool_choice", None)
        if not tools:
            return self.inner.bind(**kwargs) if kwargs else self.inner
        return self.inner.bind_tools(tools, tool_choice=tool_choice, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        answer = self._bound(kwargs).invoke(messages, stop=stop)
        return _result(answer)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        answer = await self._bound(kwargs).ainvoke(messages, stop=stop)
        return _result(answer)


def _result(answer: BaseMessage) -> ChatResult:
    message = rewrite(answer) if isinstance(answer, AIMessage) else answer
    return ChatResult(generations=[ChatGeneration(message=message)])
