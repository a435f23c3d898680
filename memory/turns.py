"""Answering messages: one turn of the agent graph per message, one at a time per conversation.

A reply returns as soon as the graph has answered and recorded the message as pending;
learning happens afterwards (the scheduler is told), and a long conversation is summarized and
its old checkpoints pruned in the background, so memory never delays a reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from cachetools import LRUCache
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel

from memory.accounts.people import People
from memory.agent.context import TurnContext
from memory.agent.graph import SUMMARIZE_AFTER
from memory.agent.model_errors import model_failure
from memory.agent.summaries import summarize_if_long
from memory.agent.turn_ids import human_id
from memory.erasure.turns import TurnErasure
from memory.intake.inflight import InFlight
from memory.learning.scheduler import ExtractionScheduler
from memory.messages import MAX_MESSAGE_CHARS, ChatMessage, Reply
from memory.stats import EngineStats
from memory.storage.checkpoints import CheckpointPruner
from memory.storage.locks import LocalUserLocks
from memory.storage.sealing import unopenable

log = logging.getLogger(__name__)

# Conversations whose turn count (for pruning every few turns) is kept; the oldest go first.
TURNS_CACHE = 20_000
APOLOGY = "Sorry, I couldn't answer that just now. Please try again in a moment."

Spawn = Callable[[Coroutine[Any, Any, Any]], None]


class Turns:
    """Answers one message at a time per conversation and counts what is being answered.

    `graph` is the compiled agent (memory.agent.graph); `conversation_locks` are held around each
    turn and each summary of the same conversation, so its state never forks; `spawn` runs
    a coroutine in the background (memory.supervision.Supervisor.in_background), where
    summaries and checkpoint pruning go. Every `prune_every` turns of a conversation its older
    checkpoints are pruned.
    """

    def __init__(
        self,
        *,
        graph: Pregel[Any, Any, Any, Any],
        model: BaseChatModel,
        people: People,
        erasure: TurnErasure,
        scheduler: ExtractionScheduler,
        stats: EngineStats,
        conversation_locks: LocalUserLocks,
        pruner: CheckpointPruner,
        prune_every: int,
        spawn: Spawn,
    ) -> None:
        self._graph = graph
        self._model = model
        self._people = people
        self._erasure = erasure
        self._scheduler = scheduler
        self._stats = stats
        self._locks = conversation_locks
        self._pruner = pruner
        self._prune_every = prune_every
        self._spawn = spawn
        # Turns per conversation, for pruning every few: bounded, the oldest forgotten first.
        self._turns: LRUCache[str, int] = LRUCache(maxsize=TURNS_CACHE)
        self._answering: Counter[str] = Counter()
        self._summarizing: set[str] = set()
        self._replies = InFlight()

    @property
    def in_flight(self) -> int:
        """Replies being made right now, in this process."""
        return self._replies.count

    def answering(self, person: str) -> int:
        """Replies being made right now for `person` (a resolved person key)."""
        return self._answering.get(person, 0)

    async def drain(self, within_seconds: float = 30.0) -> bool:
        """Wait until no reply is being made; False if some were still running at the timeout."""
        try:
            await asyncio.wait_for(self._replies.drained(), within_seconds)
            return True
        except TimeoutError:
            return False

    async def reply(self, message: ChatMessage) -> Reply:
        """Answer one message; never raises for a model or storage failure (the reply is then
        APOLOGY, marked failed). A message over MAX_MESSAGE_CHARS characters is refused with a
        reply that says the limit, and nothing of it is kept."""
        if len(message.text) > MAX_MESSAGE_CHARS:
            return Reply(
                f"That message is too long for me ({len(message.text):,} characters; "
                f"the limit is {MAX_MESSAGE_CHARS:,}).",
                message.conversation,
                message.message_id,
                failed=True,
            )
        thread = message.conversation.key
        started = time.perf_counter()
        async with self._replies.hold():
            person = message.user.key
            try:
                person = await self._people.resolve(message.user)
                self._answering[person] += 1
                # One turn at a time per conversation, so turns never fork the thread's state.
                async with self._locks.hold(thread):
                    result = await self._run_turn(message, person)
                text = str(result.get("reply", ""))
                if await self._erasure.settle(message, person, result.get("erasure_token")):
                    self._after_turn(thread, result)
            except Exception as exc:
                # A provider that is down or misconfigured fails every message: one line each.
                outside = model_failure(exc) or unopenable(exc)
                log.error(
                    "reply failed: %s",
                    outside or type(exc).__name__,
                    exc_info=outside is None,
                    extra={"user": message.user.key, "conversation": thread},
                )
                self._stats.errors.labels(kind=f"reply:{type(exc).__name__}").inc()
                return Reply(APOLOGY, message.conversation, message.message_id, failed=True)
            finally:
                self._answering[person] -= 1
                if self._answering[person] <= 0:
                    del self._answering[person]
        self._stats.messages.labels(platform=message.conversation.platform).inc()
        self._stats.reply_seconds.observe(time.perf_counter() - started)
        self._scheduler.notify(person)
        return Reply(text, message.conversation, message.message_id)

    async def _run_turn(self, message: ChatMessage, person: str) -> dict[str, Any]:
        thread = message.conversation.key
        config: RunnableConfig = {"configurable": {"thread_id": thread}}
        inputs = [_human(message, person)]
        if message.prior_turns:
            existing = await self._graph.aget_state(config)
            if not existing.values.get("messages"):
                inputs = [
                    *(HumanMessage(content=f"{t.author}: {t.text}") for t in message.prior_turns),
                    *inputs,
                ]
        result: dict[str, Any] = await self._graph.ainvoke(
            {"messages": inputs},
            config,
            context=TurnContext(message, person),
            durability="exit",
        )
        return result

    def _after_turn(self, thread: str, result: dict[str, Any]) -> None:
        """Summarize a long conversation and prune old checkpoints, in the background."""
        if len(result.get("messages", [])) > SUMMARIZE_AFTER and thread not in self._summarizing:
            self._summarizing.add(thread)
            self._spawn(self._summarize(thread))
        self._turns[thread] = self._turns.get(thread, 0) + 1
        if self._turns[thread] % self._prune_every == 0:
            self._spawn(self._pruner.prune(thread))

    async def _summarize(self, thread: str) -> None:
        try:
            await summarize_if_long(
                self._graph, self._model, thread, lambda: self._locks.hold(thread)
            )
        except Exception:
            # The hard cap in the graph keeps the state bounded even without a summary.
            log.warning("summary failed", exc_info=True, extra={"conversation": thread})
        finally:
            self._summarizing.discard(thread)


def _human(message: ChatMessage, person: str) -> HumanMessage:
    # The id names the platform message and its author, so erasure can find this turn again.
    state_id = human_id(message.message_id, person)
    if message.conversation.audience == "channel":
        # Several people share a channel thread; the model must know who says what.
        return HumanMessage(content=f"{message.user.name}: {message.text}", id=state_id)
    return HumanMessage(content=message.text, id=state_id)
