"""Shared fixtures: a fresh PostgreSQL database per run, SQLite in a temp dir, engines on both."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from langchain_core.language_models import BaseChatModel

from bot.storage import Storage, open_storage
from memory.engine import EngineConfig, MemoryEngine
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this run's own, dropped at the end, so runs never see each other's rows."""
    name = f"bot_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def storage(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Storage]:
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    async with open_storage(url, tmp_path / "data") as opened:
        yield opened


@pytest.fixture
def model() -> ScriptedChatModel:
    return ScriptedChatModel(script=memory_script)


# Learning is triggered explicitly in tests (engine.learn_now / flush), never by a timer.
MANUAL = EngineConfig(quiet_seconds=3600, every_messages=10_000)


def engine_on(
    storage: Storage,
    model: BaseChatModel | None = None,
    config: EngineConfig = MANUAL,
    **options: Any,
) -> MemoryEngine:
    """An engine on opened storage, as the bot builds one; the rule-following model by default."""
    return MemoryEngine.on(
        storage, model=model or ScriptedChatModel(script=memory_script), config=config, **options
    )


@pytest.fixture
async def engine(storage: Storage, model: ScriptedChatModel) -> AsyncIterator[MemoryEngine]:
    built = engine_on(storage, model)
    yield built
    await built.scheduler.close()


def unique(name: str) -> str:
    return f"{name}{uuid.uuid4().hex[:6]}"
