"""Rotating the master key (`bot memory rotate-key`), and the start-up check that refuses a
key which does not open everything stored, over real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.store.memory import InMemoryStore

from adapters.console.normalize import console_user
from adapters.console.runner import run_console
from bot.rotation import store_swap
from bot.storage import Storage, open_storage
from memory.commands.results import ForgetAllReceipt, ShowResult
from memory.commands.verbs import parse_command
from memory.engine import MemoryEngine
from memory.errors import CommandError, ConfigurationError
from memory.identity import UserRef
from memory.storage.repository import READABLE_SAMPLE, MemoryRepository
from memory.storage.rotation import rotate_store
from memory.storage.sealing import (
    AesGcmSealer,
    DataKeyRef,
    KeyGone,
    KeyRing,
    Sealer,
    derive_key,
    legacy_key,
    owner_label,
    person_owner,
)
from tests.conftest import MANUAL, engine_on, unique
from tests.logcheck import said
from tests.memory.helpers import channel, dm, person, say
from tests.memory.scan import places_holding
from tests.processes import bot_env, start_bot
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel

OLD = "the passphrase we had"
NEW = "the passphrase we have now"


@dataclass
class Place:
    """Where a test's storage lives: a PostgreSQL database of its own, or a SQLite folder."""

    url: str
    data: Path


@pytest.fixture
def place(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    admin = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    if not admin:
        yield Place("", tmp_path / "data")
        return
    # A database of its own, so scans for a key's id see only this test's rows.
    name = f"rotation_{unique('db')}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Place(admin.rsplit("/", 1)[0] + f"/{name}", tmp_path / "data")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def opened(
    place: Place, sealer: Sealer | None, *, legacy: bool = False
) -> AsyncIterator[tuple[Storage, MemoryEngine]]:
    """Storage and an engine over `place`. `legacy`: as versions before data keys wrote,
    everything sealed with the master key (`sealer` an AesGcmSealer)."""
    serde = EncryptedSerializer(sealer) if legacy and sealer is not None else None
    async with open_storage(place.url, place.data, serde=serde, sealer=sealer) as storage:
        model = ScriptedChatModel(script=memory_script)
        engine = engine_on(storage, model, config=MANUAL, sealer=sealer)
        try:
            yield storage, engine
        finally:
            await engine.scheduler.close()


def key_ids(secret: str) -> list[str]:
    """The ids a passphrase's master keys are named by in ciphertexts (scrypt and legacy)."""
    return [
        "aesgcm-" + hashlib.sha256(b"key-id" + key).hexdigest()[:8]
        for key in (derive_key(secret), legacy_key(secret))
    ]


async def rotate_key(place: Place, tmp_path: Path, **keys: str) -> tuple[int, str]:
    env = bot_env("http://127.0.0.1:9/v1", place.data, DATABASE_URL=place.url, **keys)
    process = await start_bot("memory", "rotate-key", env=env, cwd=tmp_path)
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode()


async def test_after_rotation_only_the_new_key_is_needed_and_old_wrapped_keys_are_useless(
    place: Place, tmp_path: Path
) -> None:
    carol, alice, bob = person(unique("carol")), person(unique("alice")), person(unique("bob"))
    room = channel(unique("room"))
    # Written by a version before data keys: memory, conversation and inbox under OLD itself.
    async with opened(place, AesGcmSealer(OLD), legacy=True) as (storage, engine):
        await engine.reply(say(carol, dm(carol), "Remember that my locker word is zebracorn"))
        await engine.learn_now(carol.key)
        await storage.inbox.record("test:waiting", {"text": "an unanswered quokkaberry"})
    # Then data keys, wrapped by OLD.
    async with opened(place, KeyRing(OLD)) as (storage, engine):
        await engine.reply(say(alice, dm(alice), "Remember that I like quokkaberry pie"))
        await engine.reply(say(bob, room, "Remember that I like plain toast"))
        await engine.learn_now(alice.key)
        await engine.learn_now(bob.key)
        before = {
            (item.namespace, item.key): item.value
            for item in await storage.store.asearch(("keys",), limit=100)
        }
        forgotten = await engine.run_command(alice, parse_command("forget all confirm"))
        assert isinstance(forgotten, ForgetAllReceipt)
        remaining = {(i.namespace, i.key) for i in await storage.store.asearch(("keys",))}
    destroyed = {where: row for where, row in before.items() if where not in remaining}
    assert len(destroyed) >= 2  # alice's own key and her DM's

    code, output = await rotate_key(
        place, tmp_path, MEMORY_ENCRYPTION_KEY=NEW, MEMORY_ENCRYPTION_OLD_KEYS=OLD
    )
    assert code == 0, output
    assert "Remove MEMORY_ENCRYPTION_OLD_KEYS" in output

    # Nothing stored names the old key any more: discarding it loses nothing...
    async with opened(place, KeyRing(NEW)) as (storage, engine):
        for old_id in key_ids(OLD):
            assert places_holding(storage, old_id, url=place.url, data_dir=place.data) == []
        await engine.start()  # the start-up check passes with the new key alone
        shown = await engine.run_command(carol, parse_command("show"))
        assert isinstance(shown, ShowResult) and any("zebracorn" in f.text for f in shown.facts)
        shown = await engine.run_command(bob, parse_command("show"))
        assert isinstance(shown, ShowResult) and any("toast" in f.text for f in shown.facts)
        for where in (dm(carol), room):
            state = await engine.graph.aget_state({"configurable": {"thread_id": where.key}})
            assert state.values["messages"], where
        [entry] = await storage.inbox.unfinished("test:", older_than=2e9, limit=10)
        assert entry.payload == {"text": "an unanswered quokkaberry"}
        erased = await engine.repository.erasure_log(alice.key)  # sealed with the master key
        assert erased.events
        # ...and the copies of alice's wrapped keys from before her forget all (as a WAL
        # segment or a backup would hold them) do not open with it.
        for (namespace, kid), row in destroyed.items():
            assert not await unwraps(NEW, namespace, kid, row)
            assert await unwraps(OLD, namespace, kid, row)  # only the discarded key would
        await engine.aclose()

    # Run again: nothing left to do, still fine.
    code, output = await rotate_key(
        place, tmp_path, MEMORY_ENCRYPTION_KEY=NEW, MEMORY_ENCRYPTION_OLD_KEYS=OLD
    )
    assert code == 0 and "0 data key(s), 0 stored value(s)" in output, output


async def unwraps(secret: str, namespace: tuple[str, ...], kid: str, row: dict[str, Any]) -> bool:
    """Whether a copy of a wrapped data key opens with the master key of `secret`."""
    store = InMemoryStore()
    await store.aput(namespace, kid, row)
    try:
        await KeyRing(secret, store=store).load([DataKeyRef(namespace[-1], kid)])
    except ValueError:
        return False
    return True


async def test_rotate_key_without_a_key_or_with_a_wrong_old_key_says_so_in_one_line(
    place: Place, tmp_path: Path
) -> None:
    async with opened(place, KeyRing(OLD)) as (_, engine):
        alice = person(unique("alice"))
        await engine.reply(say(alice, dm(alice), "Remember that I like quokkaberry pie"))
    for keys in ({}, {"MEMORY_ENCRYPTION_KEY": NEW, "MEMORY_ENCRYPTION_OLD_KEYS": "not it"}):
        code, output = await rotate_key(place, tmp_path, **keys)
        [line] = output.strip().splitlines()
        assert code == 2 and line.startswith("bot: ") and "MEMORY_ENCRYPTION" in line, output
    # Nothing was changed: the old key still opens everything, and still makes new keys.
    async with opened(place, KeyRing(OLD)) as (_, engine):
        await engine.start()
        bob = person(unique("bob"))
        reply = await engine.reply(say(bob, dm(bob), "Remember that I like plain toast"))
        assert not reply.failed
        await engine.aclose()


async def test_a_conversation_left_under_a_retired_key_is_caught_at_start(place: Place) -> None:
    alice, bob = person(unique("alice")), person(unique("bob"))
    room = channel(unique("room"))
    async with opened(place, KeyRing(OLD)) as (_, engine):
        await engine.reply(say(alice, dm(alice), "Remember that I like quokkaberry pie"))
        await engine.learn_now(alice.key)
    # Rotated without the command: keys are re-wrapped only as they are used, so alice's own
    # key and the room's are under NEW, her DM conversation's is still under OLD.
    async with opened(place, KeyRing(NEW, (OLD,))) as (_, engine):
        await engine.reply(say(alice, room, "Remember that I like plain toast"))
        await engine.reply(say(bob, room, "Remember that I like jam"))
        await engine.learn_now(alice.key)

    # The old key dropped too early: refused at start, in one line.
    async with opened(place, KeyRing(NEW)) as (_, engine):
        with pytest.raises(ConfigurationError) as refused:
            await engine.start()
        assert "MEMORY_ENCRYPTION_KEY" in str(refused.value)
        assert "\n" not in str(refused.value)
    # As the bot starts: one line, exit 2, no traceback.
    env = bot_env(
        "http://127.0.0.1:9/v1",
        place.data,
        DATABASE_URL=place.url,
        MEMORY_ENCRYPTION_KEY=NEW,
        CHECK_MODEL_AT_START="false",
    )
    process = await start_bot("chat", "--user", "alice", env=env, cwd=place.data.parent)
    out, _ = await asyncio.wait_for(process.communicate(b"hello\n"), 90)
    [line] = out.decode().strip().splitlines()
    assert process.returncode == 2 and line.startswith("bot: Stored memory is encrypted"), line

    # With the old key among the old keys, the old conversation reads and continues.
    async with opened(place, KeyRing(NEW, (OLD,))) as (_, engine):
        await engine.start()
        reply = await engine.reply(say(alice, dm(alice), "What pie do I like?"))
        assert "quokkaberry" in reply.text
        state = await engine.graph.aget_state({"configurable": {"thread_id": dm(alice).key}})
        assert len(state.values["messages"]) >= 4
        await engine.aclose()


@pytest.mark.parametrize("writer", ["legacy", "data keys"])
async def test_a_wrong_key_is_refused_when_the_newest_rows_need_no_key(
    place: Place, writer: str
) -> None:
    alice = person(unique("alice"))
    legacy = writer == "legacy"
    sealer: Sealer = AesGcmSealer(OLD) if legacy else KeyRing(OLD)
    async with opened(place, sealer, legacy=legacy) as (storage, engine):
        await engine.reply(say(alice, dm(alice), "Remember that I like quokkaberry pie"))
        await engine.learn_now(alice.key)
        # Her conversation gone, only her memory needs the key.
        await storage.checkpointer.adelete_thread(dm(alice).key)
        # Written a day before what follows (SQLite's timestamps have whole seconds).
        await _written_a_day_earlier(place, f"users.{alice.key}.%")
        # Later writes that hold nothing sealed: each a revision mark, plain by design.
        repository = MemoryRepository(storage.store)
        for n in range(READABLE_SAMPLE + 5):
            await repository.changed(f"test:someone{n}")

    for wrong in (KeyRing("not the key"), None):
        async with opened(place, wrong) as (_, engine):
            with pytest.raises(ConfigurationError, match="MEMORY_ENCRYPTION_KEY"):
                await engine.start()


async def test_old_keys_without_a_current_key_stop_the_bot_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = bot_env(
        "http://127.0.0.1:9/v1",
        data,
        MEMORY_ENCRYPTION_OLD_KEYS=OLD,
        CHECK_MODEL_AT_START="false",
    )
    env.pop("MEMORY_ENCRYPTION_KEY", None)
    process = await start_bot("chat", "--user", "alice", env=env, cwd=tmp_path)
    out, _ = await asyncio.wait_for(process.communicate(b"Remember that I keep bees\n"), 90)
    output = out.decode()
    [line] = output.strip().splitlines()
    assert process.returncode == 2 and line.startswith("bot: MEMORY_ENCRYPTION_OLD_KEYS"), output
    assert not data.exists()  # nothing was written, plain or not


async def test_forget_all_shreds_what_the_person_left_waiting_in_the_inbox(place: Place) -> None:
    alice, bob = person(unique("alice")), person(unique("bob"))
    async with opened(place, KeyRing(OLD)) as (storage, engine):
        await storage.inbox.record("test:a", {"text": "my zebracorn word"}, author=alice.key)
        await storage.inbox.record("test:b", {"text": "plain toast"}, author=bob.key)
        # The rows as they lie in the database, as a WAL segment or a backup would keep them.
        stored = await _inbox_payloads(storage)
        assert len(stored) == 2 and all("zebracorn" not in text for text in stored.values())
        assert all(json.loads(text)["sealed"].startswith("dk1-") for text in stored.values())
        forgotten = await engine.run_command(alice, parse_command("forget all confirm"))
        assert isinstance(forgotten, ForgetAllReceipt)

        fresh = KeyRing(OLD, store=storage.store)  # another process, with the master key
        for key, text in stored.items():
            value = json.loads(text)
            await fresh.ready([value])
            if key == "test:a":
                with pytest.raises(KeyGone):
                    fresh.open(value)
            else:
                assert fresh.open(value) == {"text": "plain toast"}
        # Hers is finished unanswered; his still waits.
        waiting = await storage.inbox.unfinished("test:", older_than=2e9, limit=10)
        assert [e.key for e in waiting] == ["test:b"]
        assert "test:a" not in await _inbox_payloads(storage)


async def _inbox_payloads(storage: Storage) -> dict[str, str]:
    """Each inbox row's stored payload text, by key (rows whose payload was dropped left out)."""
    sql = "SELECT event_key, payload FROM bot_inbox WHERE payload IS NOT NULL"
    if storage.pool is not None:
        async with storage.pool.connection() as conn:
            rows = await (await conn.execute(sql)).fetchall()
            return {row["event_key"]: row["payload"] for row in rows}
    inbox_conn = storage.sqlite_connections[2]
    cursor = await inbox_conn.execute(sql)
    return {str(key): str(payload) for key, payload in await cursor.fetchall()}


async def test_a_rotation_never_brings_back_a_key_forgotten_while_it_runs(place: Place) -> None:
    alice, bob = person(unique("alice")), person(unique("bob"))
    async with opened(place, KeyRing(OLD)) as (_, engine):
        await engine.reply(say(alice, dm(alice), "Remember that I like quokkaberry pie"))
        await engine.reply(say(bob, dm(bob), "Remember that I like plain toast"))
    ring = KeyRing(NEW, (OLD,))
    theirs = owner_label(person_owner(alice.key))
    async with opened(place, ring) as (storage, engine):
        swap = store_swap(storage)
        raced: list[str] = []

        async def forget_all_meanwhile(
            namespace: tuple[str, ...], key: str, old: dict[str, Any], new: dict[str, Any]
        ) -> bool:
            # She forgets everything between the rotation's read of her key and its write.
            if namespace == ("keys", theirs) and not raced:
                raced.append(key)
                await engine.run_command(alice, parse_command("forget all confirm"))
            return await swap(namespace, key, old, new)

        done = await rotate_store(storage.store, ring, forget_all_meanwhile)
        assert raced and done.left == 0
        assert await storage.store.asearch(("keys", theirs)) == []  # still destroyed
        his = owner_label(person_owner(bob.key))
        bobs = await storage.store.asearch(("keys", his))
        assert bobs and all(ring.rewrapped(his, k.key, k.value) is None for k in bobs)


async def test_a_key_rewrapped_as_it_is_used_is_not_brought_back_after_forget_all(
    place: Place,
) -> None:
    alice = person(unique("alice"))
    async with opened(place, KeyRing(OLD)) as (_, engine):
        await engine.reply(say(alice, dm(alice), "Remember that I like quokkaberry pie"))
    ring = KeyRing(NEW, (OLD,))
    label = owner_label(person_owner(alice.key))
    async with opened(place, ring) as (storage, engine):
        swap = ring.swap
        assert swap is not None
        raced: list[str] = []

        async def forget_all_meanwhile(
            namespace: tuple[str, ...], key: str, old: dict[str, Any], new: dict[str, Any]
        ) -> bool:
            # Another process forgets her between this one's read of her key and its re-wrap.
            if namespace == ("keys", label) and not raced:
                raced.append(key)
                await engine.run_command(alice, parse_command("forget all confirm"))
            return await swap(namespace, key, old, new)

        ring.swap = forget_all_meanwhile
        await ring.data_key(person_owner(alice.key))
        assert raced
        assert await storage.store.asearch(("keys", label)) == []


@pytest.mark.parametrize("keys", [350, 700])
async def test_the_key_check_reaches_the_oldest_wrapped_keys(place: Place, keys: int) -> None:
    async with opened(place, KeyRing(OLD)) as (storage, _):
        first = await KeyRing(OLD, store=storage.store).data_key("test:the first owner")
        newer = KeyRing(NEW, store=storage.store)
        for n in range(keys - 1):
            await newer.data_key(f"test:owner {n}")
        # Written a day earlier (SQLite's timestamps have whole seconds: keys made in the same
        # second as this one would come in any order).
        await _written_a_day_earlier(place, f"keys.{first.label}")
        with pytest.raises(ValueError, match="not a configured one"):
            await KeyRing(NEW, store=storage.store).check_wrapped()
        both = KeyRing(NEW, (OLD,), store=storage.store)
        # Every key's header is read (the newest 100 are unwrapped too).
        assert await both.check_wrapped(page=300) == keys
        assert await both.check_wrapped(everything=True) == keys
        with pytest.raises(ValueError):
            await both.check_wrapped(everything=True, only_current=True)


async def _written_a_day_earlier(place: Place, prefix: str) -> None:
    if place.url:
        with psycopg.connect(place.url, autocommit=True) as conn:
            conn.execute(
                "UPDATE store SET updated_at = updated_at - interval '1 day' WHERE prefix LIKE %s",
                (prefix,),
            )
        return
    with sqlite3.connect(place.data / "memory.sqlite") as conn:
        conn.execute(
            "UPDATE store SET updated_at = datetime(updated_at, '-1 day') WHERE prefix LIKE ?",
            (prefix,),
        )


async def _a_person_wrapped_under_a_dropped_key_in_the_middle(
    place: Place, zed: UserRef | None = None
) -> UserRef:
    """A store whose keys are all wrapped with NEW but one person's (zed, wrapped with OLD by
    a process still on the old key), which lies in the middle of the key table: 400 older
    keys and 350 newer ones, where sampling the newest, doubling offsets and the oldest
    would miss it. Returns zed."""
    zed = zed or person(unique("zed"))
    async with opened(place, KeyRing(NEW)) as (storage, _):
        ring = KeyRing(NEW, store=storage.store)
        for n in range(400):
            await ring.data_key(f"test:older {n}")
    await _written_a_day_earlier(place, "keys.%")
    async with opened(place, KeyRing(OLD)) as (_, engine):
        await engine.reply(say(zed, dm(zed), "Remember that I like quokkaberry pie"))
        await engine.reply(say(zed, dm(zed), "Remind me to water the zebracorn"))
        await engine.learn_now(zed.key)
        await engine.reply(say(zed, dm(zed), "Remember that I keep bees"))  # left to learn
    await _written_a_day_earlier(place, "keys.%")
    await _written_a_day_earlier(place, f"users.{zed.key}.%")
    # Newer people, each with a key of their own and a sealed row (more than the start-up
    # check opens).
    async with opened(place, KeyRing(NEW)) as (storage, engine):
        repository = MemoryRepository(storage.store, KeyRing(NEW, store=storage.store))
        for n in range(349):
            await repository.set_paused(f"test:newer {n}", True)
        ann = person(unique("ann"))
        await engine.reply(say(ann, dm(ann), "Remember that I like plain toast"))
    return zed


async def test_a_data_key_under_a_dropped_master_key_anywhere_stops_the_start(
    place: Place, tmp_path: Path
) -> None:
    await _a_person_wrapped_under_a_dropped_key_in_the_middle(place)
    async with opened(place, KeyRing(NEW)) as (_, engine):
        with pytest.raises(ConfigurationError) as refused:
            await engine.start()
        assert "MEMORY_ENCRYPTION_KEY" in str(refused.value)
        assert "\n" not in str(refused.value)
    env = bot_env(
        "http://127.0.0.1:9/v1",
        place.data,
        DATABASE_URL=place.url,
        MEMORY_ENCRYPTION_KEY=NEW,
        CHECK_MODEL_AT_START="false",
    )
    process = await start_bot("chat", "--user", "zed", env=env, cwd=tmp_path)
    out, _ = await asyncio.wait_for(process.communicate(b"hello\n"), 90)
    [line] = out.decode().strip().splitlines()
    assert process.returncode == 2 and line.startswith("bot: Stored memory is encrypted"), line


async def test_memory_that_cannot_be_opened_costs_one_line_never_a_traceback(
    place: Place, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name = unique("zed")
    zed = await _a_person_wrapped_under_a_dropped_key_in_the_middle(place, console_user(name))
    bob = person(unique("bob"))
    caplog.set_level(logging.INFO)
    # A process that was started anyway (or before the key went): zed gets an apology and
    # the log one line naming the key; everybody else is served.
    async with opened(place, KeyRing(NEW)) as (_, engine):
        caplog.clear()
        reply = await engine.reply(say(zed, dm(zed), "What pie do I like?"))
        assert reply.failed and reply.text
        reply = await engine.reply(say(bob, dm(bob), "Remember that I like plain toast"))
        assert not reply.failed
        await engine.learn_now(bob.key)
        # The sweep skips zed with one warning and does its work for the others.
        await engine.sweep()
        loud = [
            r
            for r in caplog.records
            if r.levelno >= logging.WARNING and r.name.startswith(("memory", "bot"))
        ]
        assert loud and all(not r.exc_info and not r.exc_text for r in loud), loud
        assert all("quokkaberry" not in said(r) and "pie" not in said(r) for r in loud)
        old_ids = [name.removeprefix("aesgcm-") for name in key_ids(OLD)]
        failed = [r for r in loud if r.levelno == logging.ERROR]
        assert len(failed) == 1 and any(i in failed[0].getMessage() for i in old_ids)
        skipped = [r for r in loud if r.levelno == logging.WARNING]
        assert len(skipped) == 1 and any(i in skipped[0].getMessage() for i in old_ids)
        # A /memory command says so; in a terminal chat, so do the start and each reply.
        with pytest.raises(CommandError) as refused:
            await engine.run_command(zed, parse_command("show"))
        assert "encryption key" in refused.value.message
        typed, printed = io.StringIO("/memory show\nWhat pie do I like?\n"), io.StringIO()
        await run_console(engine, name, "s2", stdin=typed, stdout=printed)
        lines = printed.getvalue().splitlines()
        assert lines[0].startswith("Chatting as") and len(lines) == 4, lines
        assert "encryption key" in lines[1] and "encryption key" in lines[2]
        assert lines[3].startswith("bot> Sorry"), lines
        # Learning what zed left pending (the chat learns it as it ends) fails in one line.
        learning = [r for r in caplog.records if "learning failed" in r.getMessage()]
        assert learning and all(any(i in r.getMessage() for i in old_ids) for r in learning)
        assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    # `bot memory check` counts what it cannot open, says why in one line, and exits 1.
    env = bot_env("http://127.0.0.1:9/v1", place.data, DATABASE_URL=place.url)
    env["MEMORY_ENCRYPTION_KEY"] = NEW
    process = await start_bot("memory", "check", env=env, cwd=tmp_path)
    out, _ = await asyncio.wait_for(process.communicate(), 90)
    output = out.decode()
    assert process.returncode == 1 and "Traceback" not in output, output
    assert "unreadable" in output or "cannot be opened" in output, output


async def test_after_rotate_key_a_process_on_the_replaced_key_wraps_no_new_data_key(
    place: Place, tmp_path: Path
) -> None:
    alice, zed = person(unique("alice")), person(unique("zed"))
    async with opened(place, KeyRing(OLD)) as (_, engine):
        await engine.reply(say(alice, dm(alice), "Remember that I like quokkaberry pie"))
    code, output = await rotate_key(
        place, tmp_path, MEMORY_ENCRYPTION_KEY=NEW, MEMORY_ENCRYPTION_OLD_KEYS=OLD
    )
    assert code == 0, output
    # A process left running on the old settings: zed, new, gets an apology, not a data key
    # that only the replaced key would open.
    async with opened(place, KeyRing(OLD)) as (storage, engine):
        reply = await engine.reply(say(zed, dm(zed), "Remember that I like plain toast"))
        assert reply.failed
        new_id = key_ids(NEW)[0].removeprefix("aesgcm-")
        wrapped = await storage.store.asearch(("keys",), limit=1000)
        assert wrapped and all(k.value["wrapped"].startswith(f"aesgcm-{new_id}:") for k in wrapped)
    async with opened(place, KeyRing(NEW)) as (_, engine):
        await engine.start()
        reply = await engine.reply(say(zed, dm(zed), "Remember that I like plain toast"))
        assert not reply.failed
        await engine.aclose()


async def test_an_inbox_event_no_configured_key_opens_waits_without_holding_up_the_rest(
    place: Place, caplog: pytest.LogCaptureFixture
) -> None:
    alice, bob = person(unique("alice")), person(unique("bob"))
    async with opened(place, KeyRing(OLD)) as (storage, _):
        await storage.inbox.record("test:a", {"text": "my zebracorn word"}, author=alice.key)
    caplog.set_level(logging.INFO)
    async with opened(place, KeyRing(NEW)) as (storage, _):
        await storage.inbox.record("test:b", {"text": "plain toast"}, author=bob.key)
        waiting = await storage.inbox.unfinished("test:", older_than=2e9, limit=10)
        assert [e.key for e in waiting] == ["test:b"]
        [warned] = [r for r in caplog.records if r.name.startswith("bot")]
        assert warned.levelno == logging.WARNING and not warned.exc_info
        assert key_ids(OLD)[0].removeprefix("aesgcm-") in warned.getMessage()
        assert "zebracorn" not in said(warned)
    # Not finished: a process holding the old key answers it.
    async with opened(place, KeyRing(NEW, (OLD,))) as (storage, _):
        waiting = await storage.inbox.unfinished("test:", older_than=2e9, limit=10)
        assert sorted(e.key for e in waiting) == ["test:a", "test:b"]


async def test_rotate_key_says_what_it_needs_and_what_is_left_to_do(tmp_path: Path) -> None:
    place = Place("", tmp_path / "data")
    # No key at all: the new key is what it needs; old keys are optional.
    code, output = await rotate_key(place, tmp_path)
    [line] = output.strip().splitlines()
    assert code == 2 and line.startswith("bot: rotate-key needs MEMORY_ENCRYPTION_KEY"), line
    assert "optional" in line, line
    # Nothing stored yet: said as a rotation, not as a check.
    code, output = await rotate_key(place, tmp_path, MEMORY_ENCRYPTION_KEY=NEW)
    [line] = output.strip().splitlines()
    assert code == 2 and "no stored memory to rotate" in line, line
    # Rotated without old keys (memory written before a key was set): nothing to remove.
    async with opened(place, None) as (_, engine):
        alice = person(unique("alice"))
        await engine.reply(say(alice, dm(alice), "Remember that I like quokkaberry pie"))
    code, output = await rotate_key(place, tmp_path, MEMORY_ENCRYPTION_KEY=NEW)
    assert code == 0 and "MEMORY_ENCRYPTION_OLD_KEYS" not in output, output


async def test_rotate_key_seals_plain_and_master_sealed_memory_under_each_owners_data_key(
    place: Place, tmp_path: Path
) -> None:
    carol, dave = person(unique("carol")), person(unique("dave"))
    # Written before any key was set: memory, conversation and inbox in plain text.
    async with opened(place, None) as (storage, engine):
        await engine.reply(say(carol, dm(carol), "Remember that my locker word is zebracorn"))
        await engine.learn_now(carol.key)
        await storage.inbox.record("test:waiting", {"text": "an unanswered zebracorn"})
    # Then by a version before data keys: everything sealed with the master key itself.
    async with opened(place, AesGcmSealer(OLD), legacy=True) as (storage, engine):
        await engine.reply(say(dave, dm(dave), "Remember that my locker word is quokkaberry"))
        await engine.learn_now(dave.key)

    code, output = await rotate_key(
        place, tmp_path, MEMORY_ENCRYPTION_KEY=NEW, MEMORY_ENCRYPTION_OLD_KEYS=OLD
    )
    assert code == 0, output

    async with opened(place, KeyRing(NEW)) as (storage, engine):
        for word in ("zebracorn", "quokkaberry"):
            assert places_holding(storage, word, url=place.url, data_dir=place.data) == []
        theirs = [
            item
            for item in await storage.store.asearch(("users",), limit=1000)
            if item.namespace[2] != "erasure" and item.key != "revision"
        ]
        assert theirs and all(item.value["sealed"].startswith("dk1-") for item in theirs)
        await engine.start()
        for who, word in ((carol, "zebracorn"), (dave, "quokkaberry")):
            shown = await engine.run_command(who, parse_command("show"))
            assert isinstance(shown, ShowResult) and any(word in f.text for f in shown.facts)
            state = await engine.graph.aget_state({"configurable": {"thread_id": dm(who).key}})
            assert state.values["messages"], who
        [entry] = await storage.inbox.unfinished("test:", older_than=2e9, limit=10)
        assert entry.payload == {"text": "an unanswered zebracorn"}
        # Their rows as they lie now (as a backup would keep them) open no more after forget
        # all: each was sealed with its owner's data key.
        for who in (carol, dave):
            forgotten = await engine.run_command(who, parse_command("forget all confirm"))
            assert isinstance(forgotten, ForgetAllReceipt)
        fresh = KeyRing(NEW, store=storage.store)
        for item in theirs:
            await fresh.ready([item.value])
            with pytest.raises(KeyGone):
                fresh.open(item.value)
        await engine.aclose()


@pytest.mark.parametrize("old_keys", ["legacy\n", '["legacy\\n"]'])
async def test_rotate_key_away_from_a_key_that_had_a_trailing_newline(
    place: Place, tmp_path: Path, old_keys: str
) -> None:
    carol = person(unique("carol"))
    # An earlier version, its key read from a secret file, newline and all.
    async with opened(place, AesGcmSealer("legacy\n"), legacy=True) as (_, engine):
        await engine.reply(say(carol, dm(carol), "Remember that my locker word is zebracorn"))
        await engine.learn_now(carol.key)
    code, output = await rotate_key(
        place, tmp_path, MEMORY_ENCRYPTION_KEY=NEW, MEMORY_ENCRYPTION_OLD_KEYS=old_keys
    )
    assert code == 0, output
    async with opened(place, KeyRing(NEW)) as (_, engine):
        await engine.start()
        shown = await engine.run_command(carol, parse_command("show"))
        assert isinstance(shown, ShowResult) and any("zebracorn" in f.text for f in shown.facts)
        await engine.aclose()


async def test_after_rotate_key_a_process_on_the_replaced_key_seals_nothing_with_it(
    place: Place, tmp_path: Path
) -> None:
    # What the master key seals itself (the erasure log kept through forget all) is refused
    # too: sealed with the replaced key, it would lock its person out on the current settings.
    alice = person(unique("alice"))
    async with opened(place, KeyRing(OLD)) as (_, engine):
        await engine.reply(say(alice, dm(alice), "Remember that I like quokkaberry pie"))
    code, output = await rotate_key(
        place, tmp_path, MEMORY_ENCRYPTION_KEY=NEW, MEMORY_ENCRYPTION_OLD_KEYS=OLD
    )
    assert code == 0, output
    old_id = key_ids(OLD)[0].removeprefix("aesgcm-")
    async with opened(place, KeyRing(OLD)) as (storage, engine):
        with pytest.raises(CommandError):
            await engine.run_command(alice, parse_command("/memory forget all confirm"))
        rows = await storage.store.asearch(("users",), limit=10_000)
        stale = [r.key for r in rows if f"aesgcm-{old_id}:" in json.dumps(r.value)]
        assert stale == []
    async with opened(place, KeyRing(NEW)) as (_, engine):
        receipt = await engine.run_command(alice, parse_command("/memory forget all confirm"))
        assert isinstance(receipt, ForgetAllReceipt)
