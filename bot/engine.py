"""Building the engine from settings: storage, models, learning cadence."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.kinds import load_kinds
from bot.model_check import check_model_answers
from bot.models import load_embeddings, load_model
from bot.settings import Settings
from bot.storage import Storage, open_storage
from memory import (
    ConfigurationError,
    EngineConfig,
    KeyRing,
    MemoryEngine,
    MemoryPolicy,
    SemanticIndex,
)

log = logging.getLogger(__name__)


def build_sealer(settings: Settings) -> KeyRing | None:
    """The key ring for MEMORY_ENCRYPTION_KEY (and its old keys), or None without a key: the
    master key, and per-person and per-conversation data keys once storage is open.

    Surrounding whitespace is not part of a key (a secret file's trailing newline must not make
    another key), for the current key as for the old ones. Data sealed by earlier versions with
    a key that had such whitespace still opens: each old key, and the current one, is tried
    for reading both as given and stripped.

    Raises ConfigurationError for a key that is set but blank (a typo, or an empty line in
    .env), and for old keys without a current key: silently running without encryption would
    be worse than refusing to start.
    """
    old_keys = tuple(k.get_secret_value() for k in settings.memory_encryption_old_keys)
    if settings.memory_encryption_key is None:
        if old_keys:
            raise ConfigurationError(
                "MEMORY_ENCRYPTION_OLD_KEYS is set but MEMORY_ENCRYPTION_KEY is not: set the "
                "current key too (new memory would otherwise be stored unencrypted)."
            )
        return None
    raw = settings.memory_encryption_key.get_secret_value()
    secret = raw.strip()
    if not secret:
        raise ConfigurationError(
            "MEMORY_ENCRYPTION_KEY is set but empty: give it a passphrase, or unset it to "
            "store memory unencrypted."
        )
    # Earlier versions used keys unstripped: what they sealed opens with the exact value.
    readable = [raw] if raw != secret else []
    for old in old_keys:
        readable += [old.strip(), old] if old.strip() != old else [old]
    return KeyRing(secret, tuple(dict.fromkeys(readable)))


def build_policy(settings: Settings) -> MemoryPolicy:
    """The kinds of MEMORY_KINDS (unset: the built-in ones, with the caps and retention of
    MAX_FACTS, MAX_TODOS and the *_DAYS settings). Raises ConfigurationError for a bad
    MEMORY_KINDS."""
    return MemoryPolicy(
        declared=load_kinds(settings.memory_kinds),
        max_facts=settings.max_facts,
        max_todos=settings.max_todos,
        open_todo_days=settings.open_todo_days,
        finished_todo_days=settings.finished_todo_days,
        summary_days=settings.summary_days,
    )


def build_semantic(settings: Settings) -> SemanticIndex | None:
    """Ranking by meaning when EMBEDDINGS is set."""
    return SemanticIndex(load_embeddings(settings.embeddings)) if settings.embeddings else None


@asynccontextmanager
async def open_engine(settings: Settings) -> AsyncIterator[tuple[MemoryEngine, Storage]]:
    """The engine on the storage the settings name, started, for the body; on the way out,
    pending learning is finished (for at most SHUTDOWN_DRAIN_SECONDS) and storage is closed.
    Yields (engine, storage). Raises ConfigurationError for MODEL, MEMORY_KINDS, the database or
    an encryption key that cannot be used, before anything is answered; with
    CHECK_MODEL_AT_START, also when the model does not answer."""
    settings.check_model()
    # A bad MEMORY_KINDS stops the start before anything is opened or asked.
    policy = build_policy(settings)
    model = load_model(settings.model)
    extraction = load_model(settings.extraction_model) if settings.extraction_model else None
    if settings.check_model_at_start:
        await check_model_answers(model, settings)
    config = EngineConfig(
        quiet_seconds=settings.learn_after_seconds,
        every_messages=settings.learn_every_messages,
        show_wait_seconds=settings.memory_show_wait_seconds,
        policy=policy,
    )
    sealer = build_sealer(settings)
    semantic = build_semantic(settings)
    async with open_storage(settings.database_url, settings.data_dir, sealer=sealer) as storage:
        engine = MemoryEngine.on(
            storage,
            model=model,
            extraction_model=extraction,
            config=config,
            sealer=sealer,
            semantic=semantic,
        )
        await engine.start()
        # Everything loaded so far lives as long as the process: keep the collector off it, so
        # full collections stay short while the bot runs.
        gc.freeze()
        try:
            yield engine, storage
        finally:
            await _close(engine, settings.shutdown_drain_seconds)


async def _close(engine: MemoryEngine, within_seconds: float) -> None:
    """Learn what is pending, for at most `within_seconds`: a long backlog must not hold up a
    shutdown. What is not learned by then stays pending in the database for the next start."""
    try:
        await asyncio.wait_for(engine.aclose(), within_seconds)
    except TimeoutError:
        log.warning(
            "shutdown: learning stopped after %.0f s; the rest is kept pending", within_seconds
        )
