"""The engine: the one object adapters hold. It assembles the parts (one compiled agent per
process, the learner behind it, the /memory operations) and hands each call to the part that
owns it: replies to memory.turns, background work and shutdown to memory.supervision, /memory
commands to memory.commands.operations and memory.accounts.linking.

A reply returns as soon as the graph has answered and recorded the message as pending;
learning happens afterwards (debounced per user) so memory never delays a reply.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore

from memory.accounts.linking import Linker
from memory.accounts.people import People
from memory.agent.graph import build_graph
from memory.agent.semantic import SemanticIndex
from memory.commands.history import HistoryEntry
from memory.commands.operations import MemoryOperations
from memory.commands.results import CommandResult, ForgetAllReceipt, ShowResult
from memory.commands.verbs import MemoryCommand
from memory.erasure.conversations import ConversationStates
from memory.erasure.turns import TurnErasure
from memory.errors import CommandError
from memory.identity import ConversationRef, UserRef
from memory.learning.changesets import ChangeListener
from memory.learning.extraction import MemoryExtractor
from memory.learning.learner import LearnedListener, Learner
from memory.messages import ChatMessage, MessageDeleted, MessageEdited, Reply
from memory.policy import MemoryPolicy
from memory.stats import EngineStats, TimedStore
from memory.storage.bundle import StorageBundle
from memory.storage.checkpoints import CheckpointPruner, SaverPruner
from memory.storage.locks import LocalUserLocks, UserLocks
from memory.storage.repositories import StoreRepositories
from memory.storage.repository import MemoryRepository, UserMemory
from memory.storage.sealing import KeyUnavailable, Sealer, inbox_owner
from memory.supervision import Supervisor
from memory.turns import APOLOGY, Turns

__all__ = ["APOLOGY", "UNOPENABLE", "EngineConfig", "MemoryEngine"]

log = logging.getLogger(__name__)

UNOPENABLE = (
    "Sorry, your memory is sealed with an encryption key I am not configured with, so I "
    "cannot open it right now. Please tell whoever runs this bot."
)


@dataclass(frozen=True)
class EngineConfig:
    """How the engine paces its work: learning after `quiet_seconds` of quiet or every
    `every_messages` messages, `max_attempts` per extraction, checkpoints pruned every
    `prune_every` turns of a conversation, and the intervals of the background loops."""

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
    """The memory bot's core, as adapters and the bot see it (SURFACE; a test keeps them to it):
    `reply`, `run_command`, `message_deleted` and `message_edited`; `on_learned` and
    `on_changed` listeners; `learn_now`, `memory` and `history` of one person; `kinds`;
    `start`, `in_flight`, `drain`, `flush` and `aclose` around a run. Two parts are lent out:
    `store`, for platform state under a platform's own namespaces (Slack's installations,
    OAuth state and answered threads), sealed with `sealer`; and `stats`, whose registry the
    bot serves on /metrics. Build it with `MemoryEngine.on(storage, ...)`."""

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
        # Accounts resolve to people here, once per message or command, and nowhere else.
        self.people = People(store, self.repository)
        self.supervisor = Supervisor(
            repository=self.repository,
            learner=self.learner,
            people=self.people,
            checkpointer=checkpointer,
            stats=self.stats,
            kinds=self.kinds,
            quiet_seconds=self.config.quiet_seconds,
            every_messages=self.config.every_messages,
            sweep_every_seconds=self.config.sweep_every_seconds,
            adopt_every_seconds=self.config.adopt_every_seconds,
        )
        self.scheduler = self.supervisor.scheduler
        repositories = StoreRepositories.around(self.repository)
        self.graph = build_graph(model, repositories, self.config.policy, semantic).compile(
            checkpointer=checkpointer, store=store
        )
        # Keyed locks that drop themselves when unused, so their number stays bounded.
        conversation_locks = LocalUserLocks()
        self.conversations = ConversationStates(
            self.graph, checkpointer, conversation_locks, self.pruner
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
        self.operations.authored_ids = self.people.authored_ids
        self.linker = Linker(store, self.people, self.locks, self.scheduler)
        self.erasure = TurnErasure(
            self.repository, self.conversations, self.people, compact, self.locks
        )
        self.turns = Turns(
            graph=self.graph,
            model=model,
            people=self.people,
            erasure=self.erasure,
            scheduler=self.scheduler,
            stats=self.stats,
            conversation_locks=conversation_locks,
            pruner=self.pruner,
            prune_every=self.config.prune_every,
            spawn=self.supervisor.in_background,
        )

    async def memory(self, user_key: str) -> UserMemory:
        """What is stored for `user_key` (a person id), every kind. Raises KeyUnavailable when
        it is sealed with a key this process does not hold."""
        return await self.repository.load(user_key)

    async def history(self, user_key: str) -> list[HistoryEntry]:
        """The change history of `user_key` (a person id), oldest first."""
        return list((await self.repository.history(user_key)).values())

    @property
    def sealer(self) -> Sealer:
        """What seals stored values (a key ring with MEMORY_ENCRYPTION_KEY, else plain)."""
        return self.repository.sealer

    def on_learned(self, listener: LearnedListener) -> None:
        """Call `listener` after each learning round (memory.learning.learner.LearnedListener)."""
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
        """Check storage, adopt unfinished learning and start the background loops (see
        memory.supervision.Supervisor.start). Raises ConfigurationError when stored memory or
        conversations are encrypted with a key the settings do not hold."""
        await self.supervisor.start()

    async def adopt_pending(self) -> int:
        """Schedule every user with pending learning that this process has not scheduled."""
        return await self.supervisor.adopt_pending()

    async def sweep(self) -> int:
        """Delete what is past retention, for every user; returns how many items went."""
        return await self.supervisor.sweep()

    async def reply(self, message: ChatMessage) -> Reply:
        """Answer one message (see memory.turns.Turns.reply); never raises for a model or
        storage failure."""
        return await self.turns.reply(message)

    async def message_deleted(self, event: MessageDeleted) -> int:
        """A platform delete (see memory.erasure.turns.TurnErasure.message_deleted)."""
        return await self.erasure.message_deleted(event)

    async def message_edited(self, event: MessageEdited) -> bool:
        """A platform edit (see memory.erasure.turns.TurnErasure.message_edited)."""
        return await self.erasure.message_edited(event)

    async def run_command(
        self, user: UserRef, command: MemoryCommand, where: ConversationRef | None = None
    ) -> CommandResult:
        """Run a /memory command for `user` (only ever on the memory of the person their
        account resolves to). Raises CommandError (shown to them) when their memory is
        sealed with a key this process does not hold, after one log line naming the key."""
        try:
            return await self._run_command(user, command, where)
        except KeyUnavailable as exc:
            log.error("a /memory command failed: %s", exc, extra={"user": user.key})
            raise CommandError(UNOPENABLE) from None

    async def _run_command(
        self, user: UserRef, command: MemoryCommand, where: ConversationRef | None
    ) -> CommandResult:
        person = await self.people.resolve(user)
        if command.action in ("link", "unlink"):
            return await self.linker.run(user, person, command)
        answering = self.turns.answering(person)
        result = await self.operations.run(user, command, where, person)
        if isinstance(result, ForgetAllReceipt):
            for former in await self.people.former_ids(person):
                await self.repository.delete_everything(former)
            if self.repository.keys is not None:
                # What they sent that waits in the inbox, wherever a copy of it lies.
                for account in {user.key, *await self.people.authored_ids(person)}:
                    await self.repository.keys.shred(inbox_owner(account))
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
        """Replies being made right now, in this process."""
        return self.turns.in_flight

    async def drain(self, within_seconds: float = 30.0) -> bool:
        """Wait until no reply is being made; False if some were still running at the timeout."""
        return await self.turns.drain(within_seconds)

    async def learn_now(self, user_key: str) -> None:
        """Run the user's pending extraction at once and wait for it (tests, shutdown)."""
        await self.scheduler.run_now(user_key)

    async def flush(self) -> None:
        """Learn what is pending for every user, now, and wait for it."""
        await self.supervisor.flush()

    async def aclose(self) -> None:
        """Learn what is pending, then stop background work. Storage is closed by its owner."""
        await self.supervisor.aclose()
