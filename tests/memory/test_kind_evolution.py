"""A deployer edits a kind's schema: stored items still load (migrated, or current with an
added or removed field); one that no longer fits is kept, shown and exported as stored, and
reported; items of a kind no longer declared are exported and erased by forget all."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from pydantic import BaseModel, Field

from bot.storage import Storage, open_storage
from memory.commands.results import (
    ConfirmForgetAll,
    ExportResult,
    ForgetAllReceipt,
    ForgetResult,
    ShowResult,
)
from memory.commands.verbs import parse_command
from memory.engine import EngineConfig, MemoryEngine
from memory.kinds import KindRegistry, profile
from memory.policy import MemoryPolicy
from memory.schemas import Provenance, StoredItem
from memory.storage import evolution
from memory.storage.repository import MemoryRepository
from memory.storage.sealing import KeyRing
from tests.conftest import MANUAL, engine_on, unique
from tests.memory.evolving_kinds import AFTER, BEFORE
from tests.memory.helpers import dm, person, say
from tests.processes import bot_env, start_bot

WHERE = Provenance(platform="test", conversation="test:dm:x", audience="dm")


async def _stored_before(store: MemoryRepository, user_key: str) -> None:
    """What the bot kept under the first schema (and a kind it no longer declares)."""
    items = {
        "aaaaa": ("tickets", "ticket", {"summary": "export is slow", "team": "core"}),
        "bbbbb": ("tickets", "ticket", {"team": "core"}),  # never had a summary
        "ccccc": ("notes", "note", {"text": "an old kind"}),
    }
    for key, (section, kind, data) in items.items():
        await store.put(user_key, section, key, StoredItem(kind=kind, data=data, provenance=WHERE))
    current = StoredItem(
        kind="ticket", data={"title": "login fails", "team": "gone"}, provenance=WHERE
    )
    await MemoryRepository(store.store, kinds=AFTER).put(user_key, "tickets", "ddddd", current)


def _engine(storage: Storage) -> MemoryEngine:
    config = EngineConfig(
        quiet_seconds=MANUAL.quiet_seconds,
        every_messages=MANUAL.every_messages,
        policy=MemoryPolicy(declared=AFTER),
    )
    return engine_on(storage, config=config)


async def test_an_edited_schema_loads_migrated_current_and_invalid(storage: Storage) -> None:
    alice = person(unique("alice"))
    await _stored_before(MemoryRepository(storage.store, kinds=BEFORE), alice.key)
    engine = _engine(storage)
    invalid_before = evolution.INVALID_SEEN["tickets"]

    tickets = (await engine.repository.load(alice.key)).of("tickets")
    assert tickets["aaaaa"].fit == "migrated"
    assert tickets["aaaaa"].data == {"title": "export is slow"}
    # A removed field is ignored, an added optional one just appears when set.
    assert tickets["ddddd"].fit == "current"
    assert tickets["bbbbb"].fit == "invalid"
    assert tickets["bbbbb"].data == {"team": "core"}  # as stored, not rewritten
    assert evolution.INVALID_SEEN["tickets"] == invalid_before + 1
    assert (
        'bot_memory_invalid_items_total{kind="tickets"}'
        in generate_latest(engine.stats.registry).decode()
    )

    shown = await engine.run_command(alice, parse_command("show"))
    assert isinstance(shown, ShowResult)
    views = {v.id: v for v in shown.of("tickets")}
    assert views["aaaaa"].text == "export is slow" and views["ddddd"].text == "login fails"
    assert views["bbbbb"].text == "team: core" and "no longer fits" in views["bbbbb"].state

    exported = await engine.run_command(alice, parse_command("export"))
    assert isinstance(exported, ExportResult)
    by_id = {t["id"]: t for t in exported.document["tickets"]}
    assert by_id["bbbbb"]["data"] == {"team": "core"}
    assert exported.document["notes"][0]["data"] == {"text": "an old kind"}

    # Nothing was written back: the store still holds the first schema's words.
    raw = await storage.store.aget(("users", alice.key, "tickets"), "aaaaa")
    assert raw is not None and raw.value["data"]["summary"] == "export is slow"

    receipt = await engine.run_command(alice, parse_command("forget all confirm"))
    assert isinstance(receipt, ForgetAllReceipt)
    assert receipt.deleted["tickets"] == 3 and receipt.deleted["notes"] == 1
    assert await storage.store.asearch(("users", alice.key, "notes")) == []
    await engine.scheduler.close()


async def test_an_item_of_a_kind_no_longer_declared_is_counted_and_forgotten_by_id(
    storage: Storage,
) -> None:
    alice = person(unique("alice"))
    await _stored_before(MemoryRepository(storage.store, kinds=BEFORE), alice.key)
    engine = _engine(storage)

    asked = await engine.run_command(alice, parse_command("forget all"))
    assert isinstance(asked, ConfirmForgetAll)
    assert asked.counts["notes"] == 1 and asked.counts["tickets"] == 3

    forgotten = await engine.run_command(alice, parse_command("forget ccccc"))
    assert isinstance(forgotten, ForgetResult) and "an old kind" in forgotten.as_text()
    assert await storage.store.asearch(("users", alice.key, "notes")) == []
    exported = await engine.run_command(alice, parse_command("export"))
    assert isinstance(exported, ExportResult) and "notes" not in exported.document
    await engine.scheduler.close()


@pytest.mark.parametrize("key", ["", "a passphrase of this deployment"])
async def test_memory_check_counts_items_per_kind(tmp_path: Path, key: str) -> None:
    # With a key, items are sealed with the person's own data key: the check reads it first.
    data = tmp_path / "data"
    sealer = KeyRing(key) if key else None
    async with open_storage("", data, sealer=sealer) as storage:
        repository = MemoryRepository(storage.store, sealer, kinds=BEFORE)
        await _stored_before(repository, "test:alice")
    kinds = Path(__file__).with_name("evolving_kinds.py")
    options = {"MEMORY_ENCRYPTION_KEY": key} if key else {}
    env = bot_env("http://127.0.0.1:9/v1", data, MEMORY_KINDS=str(kinds), **options)
    process = await start_bot("memory", "check", env=env, cwd=tmp_path)
    out, _ = await asyncio.wait_for(process.communicate(), 90)
    output = out.decode()
    assert process.returncode == 1, output  # some item is invalid
    assert "tickets: 1 current, 1 migrated, 1 invalid" in output
    assert "notes: 1 item(s) of a kind no longer declared" in output


async def test_memory_check_refuses_a_missing_data_dir_without_creating_it(tmp_path: Path) -> None:
    data = tmp_path / "nowhere"
    env = bot_env("http://127.0.0.1:9/v1", data)
    process = await start_bot("memory", "check", env=env, cwd=tmp_path)
    out, _ = await asyncio.wait_for(process.communicate(), 90)
    [line] = out.decode().strip().splitlines()
    assert process.returncode == 2 and line.startswith("bot: DATA_DIR="), line
    assert not data.exists()


@pytest.mark.parametrize("key", ["", "not the key that wrote it"])
async def test_memory_check_with_the_wrong_key_says_so_in_one_line(
    tmp_path: Path, key: str
) -> None:
    data = tmp_path / "data"
    async with open_storage("", data, sealer=KeyRing("the key that wrote it")) as storage:
        repository = MemoryRepository(storage.store, KeyRing("the key that wrote it"), kinds=BEFORE)
        await _stored_before(repository, "test:alice")
    options = {"MEMORY_ENCRYPTION_KEY": key} if key else {}
    env = bot_env("http://127.0.0.1:9/v1", data, **options)
    process = await start_bot("memory", "check", env=env, cwd=tmp_path)
    out, _ = await asyncio.wait_for(process.communicate(), 90)
    output = out.decode()
    assert process.returncode == 2, output
    [line] = output.strip().splitlines()
    assert "Stored memory is encrypted" in line and "Traceback" not in output


class TeamOnly(BaseModel):
    """Who the person is, after the deployer dropped every field but one."""

    team: str | None = Field(default=None, description="Their team")


async def test_a_profile_field_the_schema_no_longer_has_is_forgotten_by_its_id(
    storage: Storage,
) -> None:
    alice = person(unique("alice"))
    before = engine_on(storage)  # the built-in kinds: the profile has `location`
    await before.reply(say(alice, dm(alice), "Btw i live in Porto."))
    await before.learn_now(alice.key)
    await before.scheduler.close()

    dropped = KindRegistry([profile(TeamOnly, name="profile")])
    config = EngineConfig(
        quiet_seconds=MANUAL.quiet_seconds,
        every_messages=MANUAL.every_messages,
        policy=MemoryPolicy(declared=dropped),
    )
    after = engine_on(storage, config=config)
    forgotten = await after.run_command(alice, parse_command("forget location"))
    assert isinstance(forgotten, ForgetResult) and "Porto" in forgotten.as_text()
    exported = await after.run_command(alice, parse_command("export"))
    assert isinstance(exported, ExportResult) and "Porto" not in str(exported.document)
    await after.scheduler.close()


def test_an_item_that_no_longer_fits_reads_as_its_stored_fields() -> None:
    # Recall and notices use this line: an empty one would put a blank bullet in the prompt.
    stored = StoredItem(kind="ticket", data={"team": "core"}, provenance=WHERE)
    read = evolution.evolve(stored, AFTER.get("tickets"))
    assert read.fit == "invalid" and read.text() == "team: core"
