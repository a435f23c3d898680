"""Building the engine from settings: storage, models, learning cadence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.models import load_model
from bot.settings import Settings
from bot.storage import Storage, open_storage
from memory.engine import EngineConfig, MemoryEngine


@asynccontextmanager
async def open_engine(settings: Settings) -> AsyncIterator[tuple[MemoryEngine, Storage]]:
    settings.check_model()
    model = load_model(settings.model)
    extraction = load_model(settings.extraction_model) if settings.extraction_model else None
    config = EngineConfig(
        quiet_seconds=settings.learn_after_seconds,
        every_messages=settings.learn_every_messages,
    )
    async with open_storage(settings.database_url, settings.data_dir) as storage:
        engine = MemoryEngine(
            model=model,
            extraction_model=extraction,
            store=storage.store,
            checkpointer=storage.checkpointer,
            locks=storage.locks,
            seen=storage.seen,
            config=config,
        )
        await engine.start()
        try:
            yield engine, storage
        finally:
            await engine.aclose()
