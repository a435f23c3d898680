"""The core: who speaks, what is remembered and how, the agent, learning, erasure and the /memory
verbs, with no platform in it.

This module is the facade the platform adapters and the bot use (`__all__`); the sub-packages
hold one concept each:

- `memory.agent`: the agent graph and what one turn reads (prompt, recall ranking, summaries);
- `memory.learning`: when to learn, extraction with trustcall, writes and their change sets;
- `memory.storage`: the repository, sealing, namespaces, schema evolution, checkpoints, locks;
- `memory.erasure`: the log of what was forgotten and taking it out of conversations;
- `memory.commands`: the /memory verbs, the operations behind them and their results;
- `memory.accounts`: person ids across platform accounts and linking;
- `memory.intake`: the durable inbox, delivery and backpressure.

Top-level modules are the shared vocabulary: identities, messages, kinds and schemas, errors,
the engine and its metrics.
"""

from memory.accounts.linking import LinkResult
from memory.accounts.workspaces import users_under
from memory.agent.context import TurnContext
from memory.agent.graph import ChatState, build_graph
from memory.agent.model_errors import failure_cause, model_failure
from memory.agent.semantic import SemanticIndex
from memory.commands.results import (
    CommandResult,
    ConfirmForgetAll,
    CorrectResult,
    ExportResult,
    ForgetAllReceipt,
    ForgetResult,
    HelpResult,
    ItemView,
    LearningResult,
    ShowResult,
)
from memory.commands.saved import saved_line
from memory.commands.verbs import (
    MAX_COMMAND_CHARS,
    USAGE,
    VERB,
    VERBS,
    MemoryCommand,
    PlatformName,
    ShowScope,
    memory_id,
    parse_command,
)
from memory.engine import APOLOGY, UNOPENABLE, EngineConfig, MemoryEngine
from memory.errors import CommandError, ConfigurationError, IdentityError
from memory.identity import ConversationRef, UserRef, conversation_key
from memory.intake.delivery import BUSY, LATE_NOTE, TOO_LATE, Delivery, DeliveryConfig
from memory.intake.inbox import RETENTION_SECONDS, Inbox, InboxEntry, InboxState
from memory.intake.inflight import InFlight
from memory.kinds import KindError, KindRegistry, MemoryKind
from memory.learning.changesets import MemoryChanged
from memory.learning.learner import Learned
from memory.messages import (
    ChatMessage,
    MessageDeleted,
    MessageEdited,
    PriorTurn,
    change_from_payload,
    change_payload,
)
from memory.policy import MemoryPolicy
from memory.storage.checkpoints import CheckpointPruner, SaverPruner, ThreadSealing
from memory.storage.evolution import check_report, check_store
from memory.storage.locks import LocalUserLocks, UserLocks
from memory.storage.repositories import StoreRepositories
from memory.storage.repository import MemoryRepository, UserMemory
from memory.storage.rotation import rotate_store, still_needed
from memory.storage.sealing import (
    SEALED,
    KeyGone,
    KeyRing,
    KeyUnavailable,
    PlainSealer,
    Sealer,
    ValueSwap,
    inbox_owner,
    thread_owner,
)

__all__ = [
    "APOLOGY",
    "BUSY",
    "LATE_NOTE",
    "MAX_COMMAND_CHARS",
    "RETENTION_SECONDS",
    "SEALED",
    "TOO_LATE",
    "UNOPENABLE",
    "USAGE",
    "VERB",
    "VERBS",
    "ChatMessage",
    "ChatState",
    "CheckpointPruner",
    "CommandError",
    "CommandResult",
    "ConfigurationError",
    "ConfirmForgetAll",
    "ConversationRef",
    "CorrectResult",
    "Delivery",
    "DeliveryConfig",
    "EngineConfig",
    "ExportResult",
    "ForgetAllReceipt",
    "ForgetResult",
    "HelpResult",
    "IdentityError",
    "InFlight",
    "Inbox",
    "InboxEntry",
    "InboxState",
    "ItemView",
    "KeyGone",
    "KeyRing",
    "KeyUnavailable",
    "KindError",
    "KindRegistry",
    "Learned",
    "LearningResult",
    "LinkResult",
    "LocalUserLocks",
    "MemoryChanged",
    "MemoryCommand",
    "MemoryEngine",
    "MemoryKind",
    "MemoryPolicy",
    "MemoryRepository",
    "MessageDeleted",
    "MessageEdited",
    "PlainSealer",
    "PlatformName",
    "PriorTurn",
    "SaverPruner",
    "Sealer",
    "SemanticIndex",
    "ShowResult",
    "ShowScope",
    "StoreRepositories",
    "ThreadSealing",
    "TurnContext",
    "UserLocks",
    "UserMemory",
    "UserRef",
    "ValueSwap",
    "build_graph",
    "change_from_payload",
    "change_payload",
    "check_report",
    "check_store",
    "conversation_key",
    "failure_cause",
    "inbox_owner",
    "memory_id",
    "model_failure",
    "parse_command",
    "rotate_store",
    "saved_line",
    "still_needed",
    "thread_owner",
    "users_under",
]
