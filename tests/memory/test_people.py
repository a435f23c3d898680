"""People behind accounts: one person id per account, resolved in the engine, and databases
written before people existed (accounts as keys, pre-Grid Slack keys) upgraded in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.storage import Storage
from memory.accounts.people import ACCOUNTS, PEOPLE
from memory.commands.results import ForgetAllReceipt, ShowResult
from memory.commands.verbs import parse_command
from memory.engine import MemoryEngine
from memory.identity import UserRef
from tests.conftest import engine_on, unique
from tests.memory.helpers import channel, dm, say
from tests.memory.scan import places


async def _show(engine: MemoryEngine, user: UserRef) -> list[str]:
    shown = await engine.run_command(user, parse_command("show"))
    assert isinstance(shown, ShowResult)
    return [v.text for v in (*shown.profiles, *shown.facts, *shown.todos)]


async def _forget_people_tables(storage: Storage) -> None:
    """What a database written before people existed lacks: the two people tables."""
    store = storage.store
    for namespace in await store.alist_namespaces(prefix=(PEOPLE,), limit=10_000):
        for item in await store.asearch(namespace, limit=10_000):
            await store.adelete(namespace, item.key)
    for item in await store.asearch(ACCOUNTS, limit=10_000):
        await store.adelete(ACCOUNTS, item.key)


async def test_a_database_written_before_people_existed_upgrades_in_place(
    storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    org, user = unique("E"), unique("W")
    # Written the way the previous version keyed people: a Grid user once per workspace.
    in_a = UserRef("slack", user, workspace=f"{org}-TA")
    in_b = UserRef("slack", user, workspace=f"{org}-TB")
    plain = UserRef("slack", unique("U"), workspace="T1")
    room = channel(unique("room"))
    old = engine_on(storage)
    await old.reply(say(in_a, dm(in_a), "Remember that I keep Carniolan bees"))
    await old.reply(say(in_b, room, "Remember that I grow Darjeeling tea"))
    await old.reply(say(plain, dm(plain), "Remember that I sail a Laser dinghy"))
    for account in (in_a, in_b, plain):
        await old.learn_now(account.key)
    await old.scheduler.close()
    await _forget_people_tables(storage)

    engine = engine_on(storage)
    await engine.start()
    try:
        grid_user = UserRef("slack", user, workspace=org)
        assert sorted(await _show(engine, grid_user)) == [
            "I grow Darjeeling tea",
            "I keep Carniolan bees",
        ]
        assert await _show(engine, plain) == ["I sail a Laser dinghy"]
        assert await engine.people.upgrade() == 0  # nothing left to move

        receipt = await engine.run_command(grid_user, parse_command("forget all confirm"))
        assert isinstance(receipt, ForgetAllReceipt) and receipt.channel_threads == 1
        for word in ("Carniolan", "Darjeeling"):
            assert places(storage, request, tmp_path, word) == [], word
        assert places(storage, request, tmp_path, "Laser dinghy")
    finally:
        await engine.aclose()


async def test_each_account_resolves_once_to_one_person(engine: MemoryEngine) -> None:
    alice = UserRef("test", unique("alice"))
    assert await engine.people.resolve(alice) == alice.key
    assert await engine.people.accounts(alice.key) == [alice.key]
    await engine.reply(say(alice, dm(alice), "Remember that I keep bees"))
    await engine.learn_now(alice.key)
    assert await _show(engine, alice) == ["I keep bees"]


async def test_forget_all_reaches_rows_written_under_an_id_merged_away(
    engine: MemoryEngine, storage: Storage, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    slack, discord = UserRef("slack", unique("U"), workspace="T1"), UserRef("discord", unique("d"))
    keeper, joining = await engine.people.resolve(slack), await engine.people.resolve(discord)
    await engine.people.merge(joining, keeper)
    # A reply that was in flight during the merge finishes under the old id.
    await engine.reply(say(discord, dm(discord), "Remember that I keep Carniolan bees"))
    await engine.repository.add_pending(
        joining,
        "late",
        (await engine.repository.list_pending(keeper)).popitem()[1],
    )

    await engine.run_command(slack, parse_command("forget all confirm"))

    assert places(storage, request, tmp_path, "Carniolan") == []
