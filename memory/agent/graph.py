"""The agent graph, exported uncompiled: recall -> respond -> remember.

It is compiled where the checkpointer and the store are opened (see memory.engine), or served
by LangGraph Server (see bot.agent). The nodes read and write memory in `runtime.store`.
State stays bounded: old turns are folded into a summary (memory.agent.summaries) and a hard cap
trims whatever a failed summary left behind.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
)
from langgraph.channels.untracked_value import UntrackedValue
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime
from typing_extensions import TypedDict  # pydantic (LangGraph Studio's schemas) needs it on 3.11

from memory.agent.context import TurnContext
from memory.agent.prompt import memory_block, system_prompt
from memory.agent.semantic import SemanticIndex
from memory.agent.turn_ids import reply_id
from memory.learning.pending import PendingMessage
from memory.policy import MemoryPolicy
from memory.storage.repositories import StoreRepositories

# Old turns are summarized once the state holds this many messages...
SUMMARIZE_AFTER = 24
# ...keeping this many recent ones verbatim.
KEEP_AFTER_SUMMARY = 8
# Whatever happens to summaries, the state (and so the prompt) never holds more than this.
HARD_CAP = 40


class Summary(TypedDict):
    """A conversation's summary as checkpointed (written by memory.agent.summaries).

    `text`: at most memory.agent.summaries.MAX_SUMMARY_CHARS (1500) characters; `at`: when it was
    written, ISO 8601 with a UTC offset (`2026-03-02T10:00:00+00:00`).
    """

    text: str
    at: str


class ChatState(TypedDict, total=False):
    """The graph state of one conversation (one LangGraph thread).

    `messages` is the checkpointed history, merged by LangGraph's `add_messages` reducer: a
    message with a known id replaces it, a RemoveMessage deletes it
    (https://langchain-ai.github.io/langgraph/concepts/low_level/#reducers). `memory` (the
    rendered memory block), `paused`, `reply` and `erasure_token` last for one run only
    (LangGraph's UntrackedValue: "Stores the last value received, never checkpointed").
    `summary` holds the turns folded away by memory.agent.summaries.
    """

    messages: Annotated[list[AnyMessage], add_messages]
    # Per-turn values are never checkpointed: the Postgres saver would store plain strings
    # inline in its JSON column, outside the (possibly encrypting) serializer.
    memory: Annotated[str, UntrackedValue(str)]
    paused: Annotated[bool, UntrackedValue(bool)]
    reply: Annotated[str, UntrackedValue(str)]
    # The person's erasure token when recall read their memory (see memory.erasure.log).
    erasure_token: Annotated[str | None, UntrackedValue(str)]
    # A dict, not a string, for the same reason: it goes through the serializer.
    summary: Summary


def pending_key(conversation: str, message_id: str) -> str:
    """The pending-learning key of one message: 24 hex characters (the first 96 bits of a
    SHA-256 of conversation key and message id). Stable per message, so a redelivered
    message is recorded once."""
    return hashlib.sha256(f"{conversation}\n{message_id}".encode()).hexdigest()[:24]


def _last_human_text(messages: list[AnyMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


def current_summary(state: ChatState, policy: MemoryPolicy) -> str:
    """The conversation summary's text; "" when there is none or it was written more than
    `policy.summary_days` days ago. Raises ValueError if `summary["at"]` is not ISO 8601."""
    summary = state.get("summary")
    if not summary or not summary.get("text"):
        return ""
    age = datetime.now(UTC) - datetime.fromisoformat(summary["at"])
    return "" if age > timedelta(days=policy.summary_days) else summary["text"]


def build_graph(
    model: BaseChatModel,
    repositories: StoreRepositories,
    policy: MemoryPolicy,
    semantic: SemanticIndex | None = None,
) -> StateGraph[ChatState, TurnContext, Any, Any]:
    """The uncompiled graph START -> recall -> respond -> remember -> END.

    Each run needs a TurnContext as its context and a store (`runtime.store`):
    - recall loads the memory of `ctx.person_key` and renders what the conversation's
      audience may see, ranked against the last human message (by embedding similarity when
      `semantic` is given, else lexically; memory.agent.relevance) into `memory`;
    - respond calls `model` with a fresh system prompt and at most HARD_CAP (40) messages,
      and appends the answer under a stable id (memory.agent.turn_ids.reply_id);
    - remember queues the turn for learning (memory.learning.pending) unless the person paused
      memory, and removes messages beyond HARD_CAP from the state.
    Errors of the model and the store propagate out of the run; nothing here catches them.
    """

    async def recall(state: ChatState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
        ctx = runtime.context
        repository = repositories.for_store(runtime.store)
        memory = await repository.load(ctx.person_key)
        query = _last_human_text(state.get("messages", []))
        similarity = None
        if semantic is not None:
            visible = memory.visible_to(ctx.conversation.audience)
            similarity = await semantic.similarity(query, visible.items())
        return {
            "memory": memory_block(
                memory, ctx.conversation.audience, query, policy, similarity, ctx.message.sent_at
            ),
            "paused": memory.paused,
            "erasure_token": memory.erasure_token,
        }

    async def respond(state: ChatState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
        ctx = runtime.context
        # Built fresh each turn: nothing downstream may edit a shared system message.
        system = SystemMessage(
            content=system_prompt(
                ctx.user.name,
                ctx.conversation.audience,
                state["memory"],
                current_summary(state, policy),
                ctx.message.sent_at,
            )
        )
        history = state.get("messages", [])[-HARD_CAP:]
        answer = await model.ainvoke([system, *history])
        text = answer.text if isinstance(answer, AIMessage) else str(answer.content)
        answer_id = reply_id(ctx.message.message_id, ctx.person_key)
        return {"messages": [AIMessage(content=text, id=answer_id)], "reply": text}

    async def remember(state: ChatState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
        ctx = runtime.context
        repository = repositories.for_store(runtime.store)
        messages = state.get("messages", [])
        if not state.get("paused"):
            pending = PendingMessage.from_message(
                ctx.message, state.get("reply", ""), state.get("erasure_token")
            )
            key = pending_key(ctx.conversation.key, ctx.message.message_id)
            await repository.add_pending(ctx.person_key, key, pending)
        stale = messages[:-HARD_CAP] if len(messages) > HARD_CAP else []
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
