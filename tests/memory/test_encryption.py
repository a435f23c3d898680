"""With a key set, no memory text or message text is readable anywhere in the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer

from bot.storage import Storage, open_storage
from memory.commands import parse_command
from memory.engine import MemoryEngine
from memory.results import ShowResult
from memory.sealing import AesGcmSealer
from tests.conftest import MANUAL, engine_on, unique
from tests.memory.helpers import channel, dm, person, say
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel

SECRET_WORDS = ["zebracorn", "quokkaberry"]
KEY = "correct horse battery staple"


@pytest.fixture
async def sealed(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Storage, MemoryEngine, str]]:
    sealer = AesGcmSealer(KEY)
    admin = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    url, name = "", ""
    if admin:  # a database of its own, so the scan sees only this test's rows
        name = f"sealed_{unique('db')}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = admin.rsplit("/", 1)[0] + f"/{name}"
    try:
        sealed_serde = EncryptedSerializer(sealer)
        async with open_storage(url, tmp_path / "data", serde=sealed_serde) as storage:
            engine = engine_on(
                storage, ScriptedChatModel(script=memory_script), config=MANUAL, sealer=sealer
            )
            yield storage, engine, url
            await engine.scheduler.close()
    finally:
        if name:  # dropped, so test runs leave no databases behind
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _plain_hits_postgres(url: str) -> list[str]:
    hits = []
    needles = [w.encode() for w in SECRET_WORDS]
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        for table in tables:
            # Every row as text (bytea shows as hex), searched for the words and their hex.
            for (row,) in conn.execute(f'SELECT t::text FROM "{table}" t').fetchall():
                for needle in needles:
                    if needle.decode() in row or needle.hex() in row:
                        hits.append(f"{table}: {row[:120]}")
    return hits


def _plain_hits_sqlite(data: Path) -> list[str]:
    hits = []
    for path in data.iterdir():
        content = path.read_bytes()
        hits.extend(f"{path.name}" for w in SECRET_WORDS if w.encode() in content)
    return hits


async def test_no_plain_text_in_any_table(
    sealed: tuple[Storage, MemoryEngine, str], tmp_path: Path
) -> None:
    storage, engine, url = sealed
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "Remember that my locker word is zebracorn"))
    await engine.reply(say(alice, channel(unique("room")), "Remember that I like quokkaberry pie"))
    await engine.reply(say(alice, dm(alice), "Remind me to feed the zebracorn"))
    await engine.learn_now(alice.key)
    await engine.reply(say(alice, dm(alice), "Remember that zebracorn is fine"))  # left pending

    shown = await engine.run_command(alice, parse_command("show"))
    assert isinstance(shown, ShowResult)
    assert any("zebracorn" in v.text for v in shown.facts)  # readable through the bot...
    history = await engine.run_command(alice, parse_command("history"))
    assert "zebracorn" in history.as_text()

    if storage.kind == "postgres":  # ...and nowhere in the database
        hits = _plain_hits_postgres(url)
    else:
        await engine.scheduler.close()
        hits = _plain_hits_sqlite(tmp_path / "data")
    assert hits == []


def test_a_rotated_key_still_opens_what_the_old_key_sealed() -> None:
    old = AesGcmSealer("old key")
    sealed = old.seal({"content": "I keep bees"})
    assert "bees" not in str(sealed)

    rotated = AesGcmSealer("new key", old_secrets=("old key",))
    assert rotated.open(sealed) == {"content": "I keep bees"}
    resealed = rotated.seal({"content": "I keep bees"})
    with pytest.raises(ValueError, match="no key"):
        old.open(resealed)
