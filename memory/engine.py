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
from dataclasses import dataclass, field, replace
from typing import Any

from cachetools import LRUCache
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore

from memory.changesets import ChangeListener
from memory.checkpoints import CheckpointPruner, SaverPruner
from memory.commands import MemoryCommand
from memory.context import TurnContext
from memory.conversations import ConversationStates
from memory.errors import ConfigurationError
from memory.extraction import MemoryExtractor
from memory.graph import SUMMARIZE_AFTER, build_graph
from memory.identity import ConversationRef, UserRef
from memory.learning import LearnedListener, Learner
from memory.linking import Linker
from memory.locks import LocalUserLocks, UserLocks
from memory.messages import (
    MAX_MESSAGE_CHARS,
    ChatMessage,
    MessageDeleted,
    MessageEdited,
    Reply,
)
from memory.model_errors import model_failure
from memory.operations import MemoryOperations
from memory.people import People
from memory.policy import MemoryPolicy
from memory.repositories import StoreRepositories
from memory.repository import MemoryRepository
from memory.results import CommandResult, ForgetAllReceipt, ShowResult
from memory.scheduler import ExtractionScheduler
from memory.sealing import Sealer
from memory.semantic import SemanticIndex
from memory.stats import EngineStats, TimedStore
from memory.storage import StorageBundle
from memory.summaries import summarize_if_long
from memory.turn_erasure import TurnErasure
from memory.turn_ids import human_id

log = logging.getLogger(__name__)

TURNS_CACHE = 20_000
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
    # /memory show and export first learn what is pending for the caller, waiting this long.
    show_wait_seconds: float = 3.0
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
        compact: Callable[[], Awaitable[None]] | None = None,
        pruner: CheckpointPruner | None = None,
    ) -> None:
        """Prefer `MemoryEngine.on(storage, ...)`, which takes these from one storage bundle.

        `compact`, when given, runs after every erasure (storage that keeps deleted bytes in a
        log of its own folds it away: see bot.storage.Storage.compact). `pruner` drops old
        checkpoints; by default the checkpointer's own `aprune`.
        """
        self.config = config or EngineConfig()
        self._compact = compact
        self.stats = EngineStats()
        # Every store call the engine and its parts make is timed into the engine's metrics.
        store = TimedStore(store, self.stats.store_seconds)
        self.store: BaseStore = store
        self.checkpointer = checkpointer
        self.pruner: CheckpointPruner = pruner or SaverPruner(checkpointer)
        self.locks: UserLocks = locks or LocalUserLocks()
        self.model = model
        # What is remembered (memory.kinds): every layer below reads it from here.
        self.kinds = self.config.policy.kinds
        self.repository = MemoryRepository(store, sealer, self.kinds, sizes=self.stats.memory_sizes)
        self.extractor = MemoryExtractor(
            extraction_model or model, max_attempts=self.config.max_attempts, kinds=self.kinds
        )
        self.learner = Learner(
            self.repository, self.extractor, self.locks, self.config.policy, semantic
        )
        self.learner.redactor.after_erasure = compact
        self.scheduler = ExtractionScheduler(
            self._learn,
            quiet_seconds=self.config.quiet_seconds,
            every_messages=self.config.every_messages,
        )
        self.stats.backlog.set_function(lambda: self.scheduler.backlog)
        repositories = StoreRepositories.around(self.repository)
        self.graph = build_graph(model, repositories, self.config.policy, semantic).compile(
            checkpointer=checkpointer, store=store
        )
        # Keyed locks that drop themselves when unused, so their number stays bounded.
        self._conversation_locks = LocalUserLocks()
        self.conversations = ConversationStates(
            self.graph, checkpointer, self._conversation_locks, self.pruner
        )
        self.learner.redactor.conversations = self.conversations
        self.operations = MemoryOperations(
            self.repository,
            self.learner,
            self.conversations,
            self.scheduler,
            self.locks,
            show_wait_seconds=self.config.show_wait_seconds,
        )
        # Accounts resolve to people here, once per message or command, and nowhere else.
        self.people = People(store, self.repository)
        self.operations.authored_ids = self.people.authored_ids
        self.linker = Linker(store, self.people, self.locks, self.scheduler)
        self.erasure = TurnErasure(self.repository, self.conversations, self.people, compact)
        # Turns per conversation, for pruning every few: bounded, the oldest forgotten first.
        self._turns: LRUCache[str, int] = LRUCache(maxsize=TURNS_CACHE)
        self._answering: Counter[str] = Counter()
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
            self.stats.extraction_failures.inc()
            self.stats.errors.labels(kind=f"extraction:{type(exc).__name__}").inc()
            raise
        self.stats.extractions.inc()
        return used

    def on_learned(self, listener: LearnedListener) -> None:
        self.learner.listeners.append(listener)

    def on_changed(self, listener: ChangeListener) -> None:
        """Call `listener` after each learning round that changed someone's memory."""
        self.learner.change_listeners.append(listener)

    @classmethod
    def on(
        cls,
        storage: StorageBundle,
        *,
        model: BaseChatModel,
        config: EngineConfig | None = None,
        extraction_model: BaseChatModel | None = None,
        sealer: Sealer | None = None,
        semantic: SemanticIndex | None = None,
    ) -> MemoryEngine:
        """The engine on opened storage: the one way the bot, the tests and the benchmarks
        build it, so none of them can forget a part (compaction after erasure, pruning)."""
        return cls(
            model=model,
            store=storage.store,
            checkpointer=storage.checkpointer,
            locks=storage.locks,
            config=config,
            extraction_model=extraction_model,
            sealer=sealer,
            semantic=semantic,
            compact=storage.compact,
            pruner=storage.pruner,
        )

    async def start(self) -> None:
        """Check that storage is readable with the configured key; pick up extractions a previous
        run recorded but never finished; start sweeping. Raises ConfigurationError when stored
        memory or conversations are encrypted with a key the settings do not hold."""
        await self.repository.check_readable()
        await self._check_checkpoints_readable()
        await self.people.upgrade()
        await self.adopt_pending()
        loop = asyncio.get_running_loop()
        self._sweeper = loop.create_task(self._every(self.config.sweep_every_seconds, self.sweep))
        self._adopter = loop.create_task(
            self._every(self.config.adopt_every_seconds, self.adopt_pending)
        )

    async def _check_checkpoints_readable(self) -> None:
        try:
            async for _ in self.checkpointer.alist(None, limit=1):
                break
        except Exception as exc:
            raise ConfigurationError(
                "Stored conversations are encrypted and cannot be read with the current "
                "settings: set MEMORY_ENCRYPTION_KEY to the key they were written with "
                f"(older keys in MEMORY_ENCRYPTION_OLD_KEYS). ({type(exc).__name__})"
            ) from None

    async def adopt_pending(self) -> int:
        """Schedule every user with pending learning that this process has not scheduled."""
        users = await self.repository.users_with_pending()
        return sum(self.scheduler.adopt(user_key) for user_key in users)

    async def sweep(self) -> int:
        """Delete what is past retention, for every user; returns how many items went."""
        removed = 0
        kept_for_a_while = {k.name for k in self.kinds.collections if k.retention_days is not None}
        for user_key in await self.repository.users_with_any(kept_for_a_while):
            removed += await self.learner.sweep(user_key)
        for user_key in await self.repository.users_with_changes():
            # Reading them drops the change sets past the undo window, with their before-states.
            await self.repository.change_sets(user_key)
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
        started = time.perf_counter()
        self._in_flight += 1
        person = message.user.key
        self._idle.clear()
        try:
            person = await self.people.resolve(message.user)
            self._answering[person] += 1
            # One turn at a time per conversation, so turns never fork the thread's state.
            async with self._conversation_locks.hold(thread):
                result = await self._run_turn(message, person)
            text = str(result.get("reply", ""))
            if await self.erasure.settle(message, person, result.get("erasure_token")):
                self._after_turn(thread, result)
        except Exception as exc:
            # A provider that is down or misconfigured fails every message: one line each.
            outside = model_failure(exc)
            log.error(
                "reply failed: %s",
                outside or type(exc).__name__,
                exc_info=outside is None,
                extra={"user": message.user.key, "conversation": thread},
            )
            self.stats.errors.labels(kind=f"reply:{type(exc).__name__}").inc()
            return Reply(APOLOGY, message.conversation, message.message_id, failed=True)
        finally:
            self._in_flight -= 1
            self._answering[person] -= 1
            if self._answering[person] <= 0:
                del self._answering[person]
            if not self._in_flight:
                self._idle.set()
        self.stats.messages.labels(platform=message.conversation.platform).inc()
        self.stats.reply_seconds.observe(time.perf_counter() - started)
        self.scheduler.notify(person)
        return Reply(text, message.conversation, message.message_id)

    async def _run_turn(self, message: ChatMessage, person: str) -> dict[str, Any]:
        thread = message.conversation.key
        config: RunnableConfig = {"configurable": {"thread_id": thread}}
        inputs = [_human(message, person)]
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
            context=TurnContext(message, person),
            durability="exit",
        )
        return result

    def _after_turn(self, thread: str, result: dict[str, Any]) -> None:
        """Summarize a long conversation and prune old checkpoints, in the background."""
        if len(result.get("messages", [])) > SUMMARIZE_AFTER and thread not in self._summarizing:
            self._summarizing.add(thread)
            self._in_background(self._summarize(thread))
        self._turns[thread] = self._turns.get(thread, 0) + 1
        if self._turns[thread] % self.config.prune_every == 0:
            self._in_background(self.pruner.prune(thread))

    async def _summarize(self, thread: str) -> None:
        try:
            await summarize_if_long(
                self.graph, self.model, thread, lambda: self._conversation_locks.hold(thread)
            )
        except Exception:
            # The hard cap in the graph keeps the state bounded even without a summary.
            log.warning("summary failed", exc_info=True, extra={"conversation": thread})
        finally:
            self._summarizing.discard(thread)

    async def message_deleted(self, event: MessageDeleted) -> int:
        """A platform delete (see memory.turn_erasure.TurnErasure.message_deleted)."""
        return await self.erasure.message_deleted(event)

    async def message_edited(self, event: MessageEdited) -> bool:
        """A platform edit (see memory.turn_erasure.TurnErasure.message_edited)."""
        return await self.erasure.message_edited(event)

    async def run_command(
        self, user: UserRef, command: MemoryCommand, where: ConversationRef | None = None
    ) -> CommandResult:
        """Run a /memory command for `user` (only ever on the memory of the person their
        account resolves to)."""
        person = await self.people.resolve(user)
        if command.action in ("link", "unlink"):
            return await self.linker.run(user, person, command)
        answering = self._answering.get(person, 0)
        result = await self.operations.run(user, command, where, person)
        if isinstance(result, ForgetAllReceipt):
            for former in await self.people.former_ids(person):
                await self.repository.delete_everything(former)
            if self._compact is not None:
                await self._compact()
        if isinstance(result, ShowResult):
            result = replace(result, linked=tuple(await self.people.accounts(person)))
        if isinstance(result, ForgetAllReceipt) and answering:
            # Turns still in flight void themselves against the erasure log when they finish.
            result = replace(result, voided_in_flight=answering)
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


def _human(message: ChatMessage, person: str) -> HumanMessage:
    # The id names the platform message and its author, so erasure can find this turn again.
    state_id = human_id(message.message_id, person)
    if message.conversation.audience == "channel":
        # Several people share a channel thread; the model must know who says what.
        return HumanMessage(content=f"{message.user.name}: {message.text}", id=state_id)
    return HumanMessage(content=message.text, id=state_id)
