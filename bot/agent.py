"""The agent graph for LangGraph Studio and LangGraph Server (`langgraph.json` names it).

The server runs the same graph as the bot, on its own checkpointer and store: the nodes read
and write memory in `runtime.store`. Each run passes the turn in its context (see TurnContext),
`{"message": {"user": {...}, "conversation": {...}, "text": ..., "message_id": ...}}`, and the
new message as input, `{"messages": [{"role": "user", "content": ...}]}`.

Only replying runs here; learning (trustcall extraction from the pending messages the graph
records) is the bot's engine's job.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from bot.engine import build_policy, build_sealer, build_semantic
from bot.models import load_model
from bot.settings import get_settings
from memory import ChatState, StoreRepositories, TurnContext, build_graph


@cache
def make_graph() -> CompiledStateGraph[ChatState, TurnContext, Any, Any]:
    """The compiled graph from the settings (MODEL, caps, EMBEDDINGS, MEMORY_ENCRYPTION_KEY),
    with no checkpointer or store: the server supplies both. Built once per process (the
    server calls this factory per request). Raises ConfigurationError on bad settings."""
    settings = get_settings()
    settings.check_model()
    policy = build_policy(settings)
    graph = build_graph(
        load_model(settings.model),
        StoreRepositories(build_sealer(settings), policy.kinds),
        policy,
        build_semantic(settings),
    )
    return graph.compile(name="agent")
