"""The engine on SQLite and PostgreSQL: recall across conversations, isolation, audience."""

from __future__ import annotations

from memory.engine import MemoryEngine
from tests.conftest import unique
from tests.memory.helpers import channel, dm, person, say


async def test_fact_told_in_one_conversation_is_recalled_in_a_new_one(engine: MemoryEngine) -> None:
    alice = person(unique("alice"))
    await engine.reply(
        say(alice, dm(alice, "first"), "Hi! My name is Alice. Remember that I keep bees.")
    )
    await engine.learn_now(alice.key)

    reply = await engine.reply(say(alice, dm(alice, "second"), "What do you know about me?"))

    assert not reply.failed
    assert "I keep bees" in reply.text
    assert "name: Alice" in reply.text


async def test_two_users_never_see_each_others_memories(engine: MemoryEngine) -> None:
    alice, bob = person(unique("alice")), person(unique("bob"))
    await engine.reply(say(alice, dm(alice), "Remember that my locker code is 4711."))
    await engine.reply(say(bob, dm(bob), "Remember that I like tea."))
    await engine.learn_now(alice.key)
    await engine.learn_now(bob.key)

    bob_reply = await engine.reply(say(bob, dm(bob, "later"), "What do you know?"))
    alice_reply = await engine.reply(say(alice, dm(alice, "later"), "What do you know?"))

    assert "I like tea" in bob_reply.text
    assert "4711" not in bob_reply.text
    assert "4711" in alice_reply.text
    assert "tea" not in alice_reply.text


async def test_dm_learned_fact_is_not_recalled_in_a_channel(engine: MemoryEngine) -> None:
    alice = person(unique("alice"))
    room = channel(unique("room"))
    await engine.reply(say(alice, dm(alice), "Remember that I am interviewing elsewhere."))
    await engine.reply(say(alice, room, "Remember that I own the deploy pipeline."))
    await engine.learn_now(alice.key)

    in_channel = await engine.reply(say(alice, room, "What do you know about me?"))
    in_dm = await engine.reply(say(alice, dm(alice, "again"), "What do you know about me?"))

    assert "deploy pipeline" in in_channel.text
    assert "interviewing" not in in_channel.text
    assert "interviewing" in in_dm.text and "deploy pipeline" in in_dm.text


async def test_a_failing_model_gets_an_apology_not_silence(engine: MemoryEngine, model) -> None:  # type: ignore[no-untyped-def]
    def broken(_call: object) -> object:
        raise RuntimeError("provider down")

    model.script = broken
    alice = person(unique("alice"))
    reply = await engine.reply(say(alice, dm(alice), "hello"))
    assert reply.failed
    assert "Sorry" in reply.text
