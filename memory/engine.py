"""The engine: one compiled agent per process, the learner behind it and the /memory operations.

A reply returns as soon as the graph has answered and recorded the message as pending;
learning happens afterwards (debounced per user) so memory never delays a reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore

from memory.checkpoints import prune_thread
from memory.commands import MemoryCommand
from memory.context import TurnContext
from memory.extraction import MemoryExtractor
from memory.graph import SUMMARIZE_AFTER, build_graph
from memory.identity import ConversationRef, UserRef
from memory.learning import LearnedListener, Learner
from memory.locks import LocalUserLocks, UserLocks
from memory.messages import MAX_MESSAGE_CHARS, ChatMessage, Reply
from memory.operations import MemoryOperations
from memory.policy import MemoryPolicy
from memory.repository import MemoryRepository
from memory.results import CommandResult
from memory.scheduler import ExtractionScheduler
from memory.sealing import Sealer
from memory.semantic import SemanticIndex
from memory.stats import EngineStats
from memory.summaries import summarize_if_long

log = logging.getLogger(__name__)

APOLOGY = "Sorry, I couldn't answer that just now. Please try again in a moment."


@dataclass(frozen=True)
class EngineConfig:
    quiet_seconds: float = 20.0
    every_messages: int = 6
    max_attempts: int = 3
    prune_every: int = 8
    sweep_every_seconds: float = 3600.0
    # How often each process looks for pending learning nobody has scheduled (for example
    # left by a process that died): any process may then claim it, under the user lock.
    adopt_every_seconds: float = 60.0
    policy: MemoryPolicy = field(default_factory=MemoryPolicy)


class MemoryEngine:
    def __init__(
        self,
        *,
        model: BaseChatModel,
        store: BaseStore,
        checkpointer: BaseCheckpointSaver[Any],
        locks: UserLocks | None = None,
        config: EngineConfig | None = None,
        extraction_model: BaseChatModel | None = None,
        sealer: Sealer | None = None,
        semantic: SemanticIndex | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        self.store = store
        self.checkpointer = checkpointer
        self.locks: UserLocks = locks or LocalUserLocks()
        self.model = model
        self.repository = MemoryRepository(store, sealer)
        self.extractor = MemoryExtractor(
            extraction_model or model, max_attempts=self.config.max_attempts
        )
        self.learner = Learner(
            self.repository, self.extractor, self.locks, self.config.policy, semantic
        )
        self.stats = EngineStats()
        self.scheduler = ExtractionScheduler(
            self._learn,
            quiet_seconds=self.config.quiet_seconds,
            every_messages=self.config.every_messages,
        )
        self.operations = MemoryOperations(
            self.repository, self.learner, checkpointer, self.scheduler, self.locks
        )
        self.graph = build_graph(model, self.repository, self.config.policy, semantic).compile(
            checkpointer=checkpointer, store=store
        )
        self._conversation_locks: dict[str, asyncio.Lock] = {}
        self._noted: set[tuple[str, str]] = set()
        self._turns: Counter[str] = Counter()
        self._background: set[asyncio.Task[None]] = set()
        self._summarizing: set[str] = set()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._sweeper: asyncio.Task[None] | None = None
        self._adopter: asyncio.Task[None] | None = None

    async def _learn(self, user_key: str) -> int:
        try:
            used = await self.learner.learn_pending(user_key)
        except Exception as exc:
            self.stats.extraction_failures += 1
            self.stats.errors[f"extraction:{type(exc).__name__}"] += 1
            raise
        self.stats.extractions += 1
        return used

    def on_learned(self, listener: LearnedListener) -> None:
        self.learner.listeners.append(listener)

    async def start(self) -> None:
        """Pick up extractions a previous run recorded but never finished; start sweeping."""
        await self.adopt_pending()
        loop = asyncio.get_running_loop()
        self._sweeper = loop.create_task(self._every(self.config.sweep_every_seconds, self.sweep))
        self._adopter = loop.create_task(
            self._every(self.config.adopt_every_seconds, self.adopt_pending)
        )

    async def adopt_pending(self) -> int:
        """Schedule every user with pending learning that this process has not scheduled."""
        users = await self.repository.users_with_pending()
        return sum(self.scheduler.adopt(user_key) for user_key in users)

    async def sweep(self) -> int:
        """Delete what is past retention, for every user; returns how many items went."""
        removed = 0
        for user_key in await self.repository.users_with_todos():
            removed += await self.learner.sweep(user_key)
        return removed

    @staticmethod
    async def _every(seconds: float, work: Callable[[], Awaitable[int]]) -> None:
        while True:
            try:
                await work()
            except Exception:
                log.exception("background %s failed", getattr(work, "__name__", "work"))
            await asyncio.sleep(seconds)

    async def reply(self, message: ChatMessage) -> Reply:
        """Answer one message; never raises for a model or storage failure."""
        if len(message.text) > MAX_MESSAGE_CHARS:
            return Reply(
                f"That message is too long for me ({len(message.text):,} characters; "
                f"the limit is {MAX_MESSAGE_CHARS:,}).",
                message.conversation,
                message.message_id,
                failed=True,
            )
        thread = message.conversation.key
        lock = self._conversation_locks.setdefault(thread, asyncio.Lock())
        started = time.perf_counter()
        self._in_flight += 1
        self._idle.clear()
        try:
            # One turn at a time per conversation, so turns never fork the thread's state.
            async with lock:
                text = await self._run_turn(message)
        except Exception as exc:
            log.error(
                "reply failed: %s",
                type(exc).__name__,
                exc_info=True,
                extra={"user": message.user.key, "conversation": thread},
            )
            self.stats.errors[f"reply:{type(exc).__name__}"] += 1
            return Reply(APOLOGY, message.conversation, message.message_id, failed=True)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()
        self.stats.messages[message.conversation.platform] += 1
        self.stats.reply_seconds.observe(time.perf_counter() - started)
        self.scheduler.notify(message.user.key)
        return Reply(text, message.conversation, message.message_id)

    async def _run_turn(self, message: ChatMessage) -> str:
        thread = message.conversation.key
        config: RunnableConfig = {"configurable": {"thread_id": thread}}
        inputs = [_human(message)]
        if message.prior_turns:
            existing = await self.graph.aget_state(config)
            if not existing.values.get("messages"):
                inputs = [
                    *(HumanMessage(content=f"{t.author}: {t.text}") for t in message.prior_turns),
                    *inputs,
                ]
        result = await self.graph.ainvoke(
            {"messages": inputs},
            config,
            context=TurnContext(message),
            durability="exit",
        )
        await self._note_conversation(message)
        if len(result.get("messages", [])) > SUMMARIZE_AFTER and thread not in self._summarizing:
            self._summarizing.add(thread)
            self._in_background(self._summarize(thread))
        self._turns[thread] += 1
        if self._turns[thread] % self.config.prune_every == 0:
            self._in_background(prune_thread(self.checkpointer, thread))
        return str(result.get("reply", ""))

    async def _summarize(self, thread: str) -> None:
        try:
            lock = self._conversation_locks.setdefault(thread, asyncio.Lock())
            await summarize_if_long(self.graph, self.model, thread, lock)
        except Exception:
            # The hard cap in the graph keeps the state bounded even without a summary.
            log.warning("summary failed", exc_info=True, extra={"conversation": thread})
        finally:
            self._summarizing.discard(thread)

    async def _note_conversation(self, message: ChatMessage) -> None:
        """Remember which conversations a user had, so `forget all` can find their DMs."""
        marker = (message.user.key, message.conversation.key)
        if marker in self._noted:
            return
        await self.repository.note_conversation(
            message.user.key, message.conversation.key, message.conversation.audience
        )
        self._noted.add(marker)

    async def run_command(
        self, user: UserRef, command: MemoryCommand, where: ConversationRef | None = None
    ) -> CommandResult:
        result = await self.operations.run(user, command, where)
        if command.action == "forget_all" and command.confirmed:
            self._noted = {m for m in self._noted if m[0] != user.key}
        return result

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def drain(self, within_seconds: float = 30.0) -> bool:
        """Wait until no reply is being made; False if some were still running at the timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), within_seconds)
            return True
        except TimeoutError:
            return False

    async def learn_now(self, user_key: str) -> None:
        """Run the user's pending extraction at once and wait for it (tests, shutdown)."""
        await self.scheduler.run_now(user_key)

    async def flush(self) -> None:
        await self.scheduler.flush(await self.repository.users_with_pending())

    async def aclose(self) -> None:
        """Learn what is pending, then stop background work. Storage is closed by its owner."""
        for task in (self._sweeper, self._adopter):
            if task is not None:
                task.cancel()
        try:
            await self.flush()
        finally:
            await self.scheduler.close()
            if self._background:
                await asyncio.gather(*self._background, return_exceptions=True)

    def _in_background(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _human(message: ChatMessage) -> HumanMessage:
    if message.conversation.audience == "channel":
        # Several people share a channel thread; the model must know who says what.
        return HumanMessage(content=f"{message.user.name}: {message.text}")
    return HumanMessage(content=message.text)
