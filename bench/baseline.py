"""The straightforward design the issue compares against, built as such a bot usually is.

A LangGraph graph with two nodes on every message:
- `chat`: loads every stored memory of the user, puts it in the system prompt, and answers
  from the *full* conversation history kept in the checkpointed state (no trimming);
- `extract`: a trustcall extractor with the same schemas as memory/schemas.py, given the
  user's existing documents from the store, whose results are written back to the store.
Compiled with the same kind of checkpointer and store as the engine, invoked with the default
durability ("async") and no pruning.

To be charitable, the extractor is shown only the latest exchange (not the whole history),
with the same instructions the engine uses.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore
from trustcall import create_extractor

from memory.agent.prompt import system_prompt
from memory.builtin_kinds import BUILTIN
from memory.learning.extraction import instructions
from memory.messages import ChatMessage
from memory.schemas import Fact, Profile, Todo

MEMORY_LIMIT = 10_000


class BaselineState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]


@dataclass(frozen=True)
class BaselineContext:
    user_key: str
    name: str


def _namespace(user_key: str) -> tuple[str, ...]:
    return ("baseline", user_key, "memories")


def build_baseline_graph(
    model: BaseChatModel,
) -> StateGraph[BaselineState, BaselineContext, Any, Any]:
    extractor = create_extractor(
        model, tools=[Profile, Fact, Todo], enable_inserts=True, enable_deletes=True
    )

    def store_of(runtime: Runtime[BaselineContext]) -> BaseStore:
        if runtime.store is None:
            raise RuntimeError("the baseline graph needs a store")
        return runtime.store

    async def chat(state: BaselineState, runtime: Runtime[BaselineContext]) -> dict[str, Any]:
        ctx = runtime.context
        items = await store_of(runtime).asearch(_namespace(ctx.user_key), limit=MEMORY_LIMIT)
        lines = [
            f"- {it.value['kind']}: {json.dumps(it.value['data'], separators=(',', ':'))}"
            for it in items
        ]
        memory = "\n".join(lines) or "(nothing yet)"
        system = SystemMessage(content=system_prompt(ctx.name, "dm", memory))
        answer = await model.ainvoke([system, *state.get("messages", [])])
        return {"messages": [answer]}

    async def extract(state: BaselineState, runtime: Runtime[BaselineContext]) -> dict[str, Any]:
        ctx = runtime.context
        store = store_of(runtime)
        namespace = _namespace(ctx.user_key)
        items = await store.asearch(namespace, limit=MEMORY_LIMIT)
        existing = [(it.key, it.value["kind"], it.value["data"]) for it in items]
        messages = state.get("messages", [])
        human = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
        ai = messages[-1] if messages and isinstance(messages[-1], AIMessage) else None
        lines = [f"{ctx.name}: {human.text if human else ''}"]
        if ai is not None:
            lines.append(f"assistant: {ai.text}")
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        inputs: dict[str, Any] = {
            "messages": [
                SystemMessage(content=instructions(BUILTIN, ctx.name, now)),
                HumanMessage(content="Conversation:\n" + "\n".join(lines)),
            ]
        }
        if existing:
            inputs["existing"] = existing
        result = await extractor.ainvoke(inputs)
        for response, meta in zip(
            result.get("responses") or [], result.get("response_metadata") or [], strict=False
        ):
            tool = type(response).__name__
            if tool == "RemoveDoc":
                await store.adelete(namespace, str(response.json_doc_id))  # type: ignore[attr-defined]
                continue
            key = meta.get("json_doc_id") or uuid.uuid4().hex
            value = {"kind": tool, "data": response.model_dump(mode="json")}
            await store.aput(namespace, str(key), value, index=False)
        return {}

    builder: StateGraph[BaselineState, BaselineContext, Any, Any] = StateGraph(
        BaselineState, context_schema=BaselineContext
    )
    builder.add_node("chat", chat)
    builder.add_node("extract", extract)
    builder.add_edge(START, "chat")
    builder.add_edge("chat", "extract")
    builder.add_edge("extract", END)
    return builder


class BaselineBot:
    """The baseline compiled on a checkpointer and store, answering ChatMessages."""

    def __init__(
        self, model: BaseChatModel, store: BaseStore, checkpointer: BaseCheckpointSaver[Any]
    ) -> None:
        self.graph = build_baseline_graph(model).compile(checkpointer=checkpointer, store=store)

    async def reply(self, message: ChatMessage) -> str:
        config: RunnableConfig = {"configurable": {"thread_id": message.conversation.key}}
        result = await self.graph.ainvoke(
            {"messages": [HumanMessage(content=message.text)]},
            config,
            context=BaselineContext(message.user.key, message.user.name),
        )
        messages = result.get("messages") or []
        return messages[-1].text if messages else ""
