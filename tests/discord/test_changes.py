"""Discord deletes (single and bulk, cached or not) and edits reach memory over the gateway."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.discord.changes import to_deleted
from adapters.discord.client import CHANGE_PREFIX
from adapters.discord.normalize import user_ref
from bot.storage import Storage
from memory.commands.results import WhyResult
from memory.commands.verbs import MemoryCommand
from memory.engine import MemoryEngine
from memory.identity import ConversationRef
from memory.intake.delivery import Delivery
from memory.messages import MessageDeleted, change_from_payload, change_payload
from tests.discord.conftest import Chat, DiscordOptions, build_client, running
from tests.fakes.discord import BOT_ID, GUILD_ID, USER_ID, FakeDiscord
from tests.fakes.discord.world import now
from tests.memory.scan import places, until_gone


async def test_a_deleted_dm_is_not_learned_and_leaves_the_conversation(
    chat: Chat,
    fake: FakeDiscord,
    engine: MemoryEngine,
    storage: Storage,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    message = fake.message_create("Remember that I see Dr Quillfeather on Monday")
    await chat.send(message)
    assert places(storage, request, tmp_path, "Quillfeather")

    await fake.dispatch(
        "MESSAGE_DELETE", {"id": message["id"], "channel_id": message["channel_id"]}
    )

    assert await until_gone(storage, request, tmp_path, "Quillfeather") == []
    await chat.learn()
    assert (await chat.show()).facts == []


async def test_a_bulk_delete_in_a_server_removes_every_message(
    chat: Chat,
    fake: FakeDiscord,
    storage: Storage,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    sent = []
    for text in ("Remember that I race Penny-farthings", "Remember that I bake Stollen"):
        message = fake.message_create(f"<@{BOT_ID}> {text}", guild_id=GUILD_ID, mentions=[BOT_ID])
        await chat.send(message)
        sent.append(message)

    bulk = {
        "ids": [m["id"] for m in sent],
        "channel_id": sent[0]["channel_id"],
        "guild_id": str(GUILD_ID),
    }
    await fake.dispatch("MESSAGE_DELETE_BULK", bulk)

    assert await until_gone(storage, request, tmp_path, "Penny-farthings") == []
    assert await until_gone(storage, request, tmp_path, "Stollen") == []
    await chat.learn()
    assert (await chat.show()).facts == []


async def test_an_edit_replaces_what_is_pending_and_stored(
    chat: Chat,
    fake: FakeDiscord,
    storage: Storage,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    message = fake.message_create("Remember that I play the Theorbo")
    await chat.send(message)

    edited = {
        **message,
        "content": "Remember that I play the Hurdy-gurdy",
        "edited_timestamp": now(),
    }
    await fake.dispatch("MESSAGE_UPDATE", edited)

    assert await until_gone(storage, request, tmp_path, "Theorbo") == []
    await chat.learn()
    assert [f.text for f in (await chat.show()).facts] == ["I play the Hurdy-gurdy"]


async def test_a_delete_whose_process_died_is_applied_by_recovery(
    fake: FakeDiscord,
    engine: MemoryEngine,
    storage: Storage,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    delivery = Delivery(storage.inbox)  # the inbox in the database outlives the client
    options = DiscordOptions(guild_ready_timeout=0.05)
    async with running(build_client(engine, options, delivery), fake):
        message = fake.message_create("Remember that I see Dr Marrowfax on Monday")
        await Chat(fake, engine).send(message)
    assert places(storage, request, tmp_path, "Marrowfax")

    # The delete arrived and was recorded, then its process was killed before applying it.
    channel_id, message_id = int(message["channel_id"]), int(message["id"])
    key = f"{CHANGE_PREFIX}delete:{channel_id}:{message_id}"
    deleted = to_deleted(None, channel_id, [message_id])
    await delivery.record(key, change_payload(deleted))
    assert await storage.inbox.claim(key, "killed", lease_seconds=-1)

    async with running(build_client(engine, options, delivery), fake):
        assert await delivery.recover() == 1
        assert await until_gone(storage, request, tmp_path, "Marrowfax") == []
    assert await delivery.record(key, {}) == "done"


def test_a_change_survives_its_inbox_payload() -> None:
    deleted = MessageDeleted(ConversationRef("discord:dm:1", "dm", "discord"), ("1:2", "1:3"))
    assert change_from_payload(change_payload(deleted)) == deleted
    assert change_from_payload({"kind": "deleted"}) is None


async def test_editing_a_learned_message_leaves_history_and_why_without_its_words(
    chat: Chat, fake: FakeDiscord, engine: MemoryEngine
) -> None:
    message = fake.message_create("Remember that I play the Theorbo")
    await chat.send(message)
    await chat.learn()
    [fact] = (await chat.show()).facts
    person = user_ref(USER_ID)

    edited = {**message, "content": "Remember that I play the Serpent", "edited_timestamp": now()}
    await fake.dispatch("MESSAGE_UPDATE", edited)

    for _ in range(500):  # bounded: the edit is applied after the gateway event arrives
        history = await engine.repository.history(person.key)
        if not any(e.cause.endswith(str(message["id"])) for e in history.values()):
            break
        await asyncio.sleep(0.02)
    history = await engine.repository.history(person.key)
    assert not any(e.cause.endswith(str(message["id"])) for e in history.values())
    why = await engine.run_command(person, MemoryCommand("why", item_id=fact.id))
    assert isinstance(why, WhyResult) and why.item.text == "I play the Theorbo"
    assert why.words is None and "Serpent" not in why.as_text()
