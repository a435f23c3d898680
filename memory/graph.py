"""The agent graph, exported uncompiled: recall -> respond -> remember.

It is compiled where the checkpointer and the store are opened (see memory.engine).
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
)
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime

from memory.context import TurnContext
from memory.pending import PendingMessage
from memory.prompt import memory_block, system_prompt
from memory.repository import MemoryRepository

# The prompt sees at most this many recent messages, whatever the conversation's length.
PROMPT_HISTORY = 12
# The checkpointed state keeps a little more, so trimming is cheap and the prompt stays full.
STATE_HISTORY = 16


class ChatState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    memory: str
    paused: bool
    reply: str


def pending_key(conversation: str, message_id: str) -> str:
    """Stable per message, so a redelivered message is recorded once."""
    return hashlib.sha256(f"{conversation}\n{message_id}".encode()).hexdigest()[:24]


def _repository(runtime: Runtime[TurnContext]) -> MemoryRepository:
    if runtime.store is None:
        raise RuntimeError("the graph must be compiled with a store")
    return MemoryRepository(runtime.store)


def _last_human_text(messages: list[AnyMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


def build_graph(model: BaseChatModel) -> StateGraph[ChatState, TurnContext, Any, Any]:
    async def recall(state: ChatState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
        ctx = runtime.context
        memory = await _repository(runtime).load(ctx.user.key)
        query = _last_human_text(state.get("messages", []))
        return {
            "memory": memory_block(memory, ctx.conversation.audience, query),
            "paused": memory.paused,
        }

    async def respond(state: ChatState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
        ctx = runtime.context
        # Built fresh each turn: nothing downstream may edit a shared system message.
        system = SystemMessage(
            content=system_prompt(ctx.user.name, ctx.conversation.audience, state["memory"])
        )
        history = state.get("messages", [])[-PROMPT_HISTORY:]
        answer = await model.ainvoke([system, *history])
        text = answer.text if isinstance(answer, AIMessage) else str(answer.content)
        return {"messages": [AIMessage(content=text)], "reply": text}

    async def remember(state: ChatState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
        ctx = runtime.context
        messages = state.get("messages", [])
        if not state.get("paused"):
            repository = _repository(runtime)
            pending = PendingMessage.from_message(ctx.message, state.get("reply", ""))
            key = pending_key(ctx.conversation.key, ctx.message.message_id)
            await repository.add_pending(ctx.user.key, key, pending)
        # Bound the checkpointed state: old turns leave the state (and the prompt).
        stale = messages[:-STATE_HISTORY] if len(messages) > STATE_HISTORY else []
        return {"messages": [RemoveMessage(id=m.id) for m in stale if m.id]}

    builder: StateGraph[ChatState, TurnContext, Any, Any] = StateGraph(
        ChatState, context_schema=TurnContext
    )
    builder.add_node("recall", recall)
    builder.add_node("respond", respond)
    builder.add_node("remember", remember)
    builder.add_edge(START, "recall")
    builder.add_edge("recall", "respond")
    builder.add_edge("respond", "remember")
    builder.add_edge("remember", END)
    return builder
