"""Concurrent learning for one user loses no update: one engine, and two on one database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.storage import open_storage
from memory.engine import MemoryEngine
from tests.conftest import MANUAL, engine_on, unique
from tests.memory.helpers import dm, person, say
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel

HOBBIES = [f"hobby{n}" for n in range(50)]


async def _tell_and_learn(engine: MemoryEngine, alice_name: str, hobby: str) -> None:
    alice = person(alice_name)
    await engine.reply(say(alice, dm(alice, hobby), f"I like {hobby}"))
    # Straight to the learner, past the scheduler's own one-at-a-time rule: only the user
    # lock stands between these read-patch-write cycles.
    await engine.learner.learn_pending(alice.key)


async def test_fifty_concurrent_profile_updates_in_one_engine(
    engine: MemoryEngine, model: ScriptedChatModel
) -> None:
    model.latency = 0.005  # a model that takes time widens any race window
    name = unique("alice")
    await asyncio.gather(*(_tell_and_learn(engine, name, h) for h in HOBBIES))

    memory = await engine.repository.load(person(name).key)
    assert sorted(memory.profiles["dm"].data["interests"]) == sorted(HOBBIES)
    assert await engine.repository.list_pending(person(name).key) == {}


async def test_fifty_concurrent_updates_across_two_engines_on_one_postgres(
    postgres_url: str, tmp_path: Path
) -> None:
    name = unique("alice")
    async with (
        open_storage(postgres_url, tmp_path / "a", pool_size=20) as first,
        open_storage(postgres_url, tmp_path / "b", pool_size=20) as second,
    ):
        engines = [
            engine_on(s, ScriptedChatModel(script=memory_script, latency=0.005), config=MANUAL)
            for s in (first, second)
        ]
        await asyncio.gather(
            *(_tell_and_learn(engines[i % 2], name, h) for i, h in enumerate(HOBBIES))
        )
        memory = await engines[0].repository.load(person(name).key)
        for engine in engines:
            await engine.scheduler.close()

    assert sorted(memory.profiles["dm"].data["interests"]) == sorted(HOBBIES)


async def test_many_users_learning_at_once_never_starve_replies(
    postgres_url: str, tmp_path: Path
) -> None:
    """Learning holds a lock across a slow model call; it must not hold the connections
    that its own reads and other users' replies need (a small pool makes that a deadlock)."""
    async with open_storage(postgres_url, tmp_path, pool_size=3) as storage:
        engine = engine_on(storage, ScriptedChatModel(script=memory_script, latency=0.05))
        users = [person(unique(f"u{n}-")) for n in range(20)]

        async def one(n: int) -> bool:
            user = users[n]
            reply = await engine.reply(say(user, dm(user), f"Remember that I am number {n}"))
            await engine.learner.learn_pending(user.key)
            return not reply.failed

        answered = await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(20))), 60)
        learned = [len((await engine.repository.load(u.key)).facts) for u in users]
        await engine.scheduler.close()

    assert all(answered)
    assert learned == [1] * 20


async def test_a_cached_memory_is_never_stale_after_another_process_writes(
    postgres_url: str, tmp_path: Path
) -> None:
    alice = person(unique("alice"))
    async with (
        open_storage(postgres_url, tmp_path / "a") as first,
        open_storage(postgres_url, tmp_path / "b") as second,
    ):
        reader, writer = engine_on(first), engine_on(second)
        await writer.reply(say(alice, dm(alice), "Remember that I keep bees"))
        await writer.learner.learn_pending(alice.key)
        assert len((await reader.repository.load(alice.key)).facts) == 1  # now cached

        await writer.reply(say(alice, dm(alice), "Remember that I ski"))
        await writer.learner.learn_pending(alice.key)
        assert len((await reader.repository.load(alice.key)).facts) == 2

        bees = next(
            k
            for k, v in (await writer.repository.load(alice.key)).facts.items()
            if "bees" in v.text()
        )
        await writer.repository.delete(alice.key, "facts", bees)
        assert bees not in (await reader.repository.load(alice.key)).facts
        for engine in (reader, writer):
            await engine.scheduler.close()
