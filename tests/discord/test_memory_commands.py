"""/memory over INTERACTION_CREATE: every command deferred first, then a private answer;
buttons acknowledged first, then the message edited; autocomplete."""

from __future__ import annotations

import json
import logging

import pytest

from adapters.discord.answers import SORRY
from adapters.discord.views import NOT_YOURS
from memory.commands.verbs import VERBS, Verb
from memory.engine import MemoryEngine
from tests.command_samples import sample_options
from tests.discord.conftest import Chat
from tests.fakes.discord import (
    APP_ID,
    EPHEMERAL,
    GUILD_ID,
    OTHER_USER_ID,
    USER_ID,
    FakeDiscord,
    Json,
    Request,
    custom_ids,
)

DEFERRED = {"type": 5, "data": {"flags": EPHEMERAL}}


def fields(message: Json) -> list[Json]:
    return [f for embed in message.get("embeds", []) for f in embed.get("fields", [])]


def embed_text(message: Json) -> str:
    parts = []
    for embed in message.get("embeds", []):
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(p for p in parts if p)


async def ask(chat: Chat, name: str, options: Json | None = None, *, guild: bool = True) -> Json:
    """Run /memory <name>: the first response is a private defer, the answer a private
    followup; returns the message Discord made of the followup (with its components)."""
    payload, callback = await chat.command(name, options, guild=guild)
    assert callback.json == DEFERRED
    assert not callback.authorized
    followup = await chat.followup(payload)
    assert followup.json["flags"] & EPHEMERAL
    message: Json = followup.response
    return message


async def edited(fake: FakeDiscord, press: Request) -> Json:
    """A button press: acknowledged at once (type 6), then the message edited."""
    assert press.json == {"type": 6}
    token = press.path.split("/")[-2]  # the button press's own interaction token
    edit = await fake.wait_for_request("PATCH", rf"/webhooks/{APP_ID}/{token}/messages/@original")
    message: Json = edit.json
    return message


def forget_id(item_id: str, user_id: int = USER_ID, page: int = 0) -> str:
    return f"memory:forget:{user_id}:{item_id}:all:{page}"


def why_id(item_id: str, user_id: int = USER_ID) -> str:
    return f"memory:why:{user_id}:{item_id}"


def forget_ids(message: Json) -> list[str]:
    return [c for c in custom_ids(message) if c.startswith("memory:forget:")]


async def remember(chat: Chat, *facts: str, user_id: int = USER_ID) -> dict[str, str]:
    """Tell the bot facts in a server channel and learn them; returns text -> id."""
    for fact in facts:
        await chat.mention(f"Remember that {fact}.", author_id=user_id)
    await chat.learn(user_id)
    return {item.text: item.id for item in (await chat.show(user_id)).facts}


async def test_show_lists_ids_and_sources_privately(chat: Chat) -> None:
    ids = await remember(chat, "I keep bees")
    await chat.dm("My name is Alice.")
    await chat.learn()

    message = await ask(chat, "show")

    text = embed_text(message)
    assert f"`{ids['I keep bees']}` · fact" in text
    # Named by the channel's name, which Discord sends with the message.
    assert "I keep bees" in text and "learned in #general on discord" in text
    assert "Alice" in text  # the profile, learned in a DM, is shown to its owner only
    # Each profile field has its own id and button, like every other memory.
    assert "`name` · profile" in text
    assert custom_ids(message) == [
        forget_id("name"),
        forget_id(ids["I keep bees"]),
        why_id("name"),
        why_id(ids["I keep bees"]),
    ]


async def test_show_with_a_scope_and_an_empty_memory(chat: Chat) -> None:
    empty = await ask(chat, "show", guild=False)
    assert "don't remember anything" in embed_text(empty)

    await remember(chat, "I keep bees")
    todos = await ask(chat, "show", {"scope": "todos"})
    assert "I keep bees" not in embed_text(todos)


async def test_show_pages_through_long_lists(chat: Chat, fake: FakeDiscord) -> None:
    facts = [f"fact number {n} is true" for n in range(7)]
    await remember(chat, *facts)

    first = await ask(chat, "show")
    forget_buttons = [c for c in custom_ids(first) if c.startswith("memory:forget:")]
    assert len(forget_buttons) == 5 and f"memory:page:{USER_ID}:all:1" in custom_ids(first)

    second = await edited(fake, await chat.press(f"memory:page:{USER_ID}:all:1", first))
    assert len([c for c in custom_ids(second) if c.startswith("memory:forget:")]) == 2
    assert "Page 2/2" in second["embeds"][0]["footer"]["text"]


async def test_forget_by_id(chat: Chat) -> None:
    ids = await remember(chat, "I keep bees", "I like tea")

    answer = await ask(chat, "forget", {"id": ids["I keep bees"]})

    assert "Forgotten: I keep bees" in embed_text(answer)
    assert [f.text for f in (await chat.show()).facts] == ["I like tea"]


async def test_forget_refuses_a_malformed_or_unknown_id(chat: Chat) -> None:
    await remember(chat, "I keep bees")

    bad = await ask(chat, "forget", {"id": "DROP TABLE; --"})
    assert "is not a memory id" in bad["content"]
    unknown = await ask(chat, "forget", {"id": "zz99zz"})
    assert "no memory with id `zz99zz`" in unknown["content"]

    assert [f.text for f in (await chat.show()).facts] == ["I keep bees"]


async def test_forget_button_forgets_and_refreshes_the_list(chat: Chat, fake: FakeDiscord) -> None:
    ids = await remember(chat, "I keep bees", "I like tea")
    shown = await ask(chat, "show")

    update = await edited(fake, await chat.press(forget_id(ids["I keep bees"]), shown))

    assert "Forgotten: I keep bees" in embed_text(update)
    assert forget_ids(update) == [
        forget_id("interests"),  # "I like tea" is also an interest, in the profile
        forget_id(ids["I like tea"]),
    ]
    assert [f.text for f in (await chat.show()).facts] == ["I like tea"]


async def test_a_button_pressed_by_someone_else_is_refused(chat: Chat) -> None:
    ids = await remember(chat, "I keep bees")
    shown = await ask(chat, "show")

    refusal = await chat.press(forget_id(ids["I keep bees"]), shown, OTHER_USER_ID)

    assert refusal.json["type"] == 4
    assert refusal.json["data"]["content"] == NOT_YOURS
    assert refusal.json["data"]["flags"] == EPHEMERAL
    assert [f.text for f in (await chat.show()).facts] == ["I keep bees"]


async def test_why_button_answers_privately_and_only_its_owner(
    chat: Chat, fake: FakeDiscord
) -> None:
    ids = await remember(chat, "I keep bees")
    shown = await ask(chat, "show")
    why = why_id(ids["I keep bees"])
    assert why in custom_ids(shown)

    refusal = await chat.press(why, shown, OTHER_USER_ID)
    assert refusal.json["type"] == 4 and refusal.json["data"]["flags"] == EPHEMERAL
    assert refusal.json["data"]["content"] == NOT_YOURS and "bees" not in str(refusal.json)

    press = await chat.press(why, shown)
    assert press.json == {"type": 6}  # acknowledged first; the list is not edited
    token = press.path.split("/")[-2]
    answer = await fake.wait_for_request("POST", rf"/webhooks/{APP_ID}/{token}")
    assert answer.json["flags"] & EPHEMERAL
    text = embed_text(answer.json)
    assert "I keep bees" in text and "Remember that I keep bees." in text
    assert f"https://discord.com/channels/{GUILD_ID}/" in text  # the message's jump URL


async def test_forget_all_defers_asks_and_deletes_on_confirmation(
    chat: Chat, fake: FakeDiscord
) -> None:
    await remember(chat, "I keep bees")
    await remember(chat, "I like coffee", user_id=OTHER_USER_ID)

    payload, callback = await chat.command("forget-all")
    assert callback.json == DEFERRED
    followup = await chat.followup(payload)
    assert followup.json["flags"] & EPHEMERAL
    assert "Forget everything?" in embed_text(followup.json)
    question = followup.response

    intruder = await chat.press(f"memory:forget-all:{USER_ID}", question, OTHER_USER_ID)
    assert intruder.json["data"]["flags"] == EPHEMERAL
    assert (await chat.show()).facts

    edit = await edited(fake, await chat.press(f"memory:forget-all:{USER_ID}", question))
    assert "Deleted everything" in embed_text(edit)
    assert edit["components"] == []
    assert (await chat.show()).empty
    assert [f.text for f in (await chat.show(OTHER_USER_ID)).facts] == ["I like coffee"]


async def test_forget_all_can_be_cancelled(chat: Chat, fake: FakeDiscord) -> None:
    await remember(chat, "I keep bees")
    question = await ask(chat, "forget-all", guild=False)

    cancel = await edited(fake, await chat.press(f"memory:forget-all-cancel:{USER_ID}", question))

    assert "Nothing was deleted" in embed_text(cancel)
    assert [f.text for f in (await chat.show()).facts] == ["I keep bees"]


async def test_correct_defers_then_follows_up(chat: Chat) -> None:
    await remember(chat, "I keep bees")

    payload, callback = await chat.command("correct", {"text": "not bees but wasps"})

    assert callback.json == DEFERRED
    followup = await chat.followup(payload)
    assert followup.json["flags"] & EPHEMERAL
    assert "Corrected" in embed_text(followup.json)
    assert [f.text for f in (await chat.show()).facts] == ["I keep wasps"]


async def test_export_sends_the_json_as_a_private_attachment(chat: Chat) -> None:
    await remember(chat, "I keep bees")
    await remember(chat, "I like coffee", user_id=OTHER_USER_ID)

    payload, callback = await chat.command("export")

    assert callback.json == DEFERRED
    assert callback.response["resource"]["message"]["flags"] & EPHEMERAL
    followup = await chat.followup(payload)
    assert followup.query["wait"] == "1"
    assert followup.json["flags"] & EPHEMERAL
    [upload] = followup.files
    assert upload.filename == f"memory-discord-{USER_ID}.json"
    document = json.loads(upload.content)
    assert document["user"] == f"discord:{USER_ID}"
    assert [f["data"]["content"] for f in document["facts"]] == ["I keep bees"]
    assert "coffee" not in upload.content.decode()


async def test_pause_stops_learning_and_resume_starts_it(chat: Chat) -> None:
    paused = await ask(chat, "pause")
    assert "Learning paused" in embed_text(paused)
    assert await remember(chat, "I keep bees") == {}

    resumed = await ask(chat, "resume", guild=False)
    assert "Learning resumed" in embed_text(resumed)
    assert list(await remember(chat, "I keep wasps")) == ["I keep wasps"]


async def test_help_is_private(chat: Chat) -> None:
    assert "/memory forget-all" in embed_text(await ask(chat, "help"))


async def test_autocomplete_offers_only_the_callers_ids(chat: Chat, fake: FakeDiscord) -> None:
    alice = await remember(chat, "I keep bees", "I like tea")
    bob = await remember(chat, "I keep bees too", user_id=OTHER_USER_ID)

    request = fake.autocomplete(["memory", "forget"], {"id": ""}, focused="id", guild_id=GUILD_ID)
    callback = await chat.interact(request)
    assert callback.json["type"] == 8
    offered = {c["value"] for c in callback.json["data"]["choices"]}
    assert offered == set(alice.values())
    assert not offered & set(bob.values())

    narrowed = fake.autocomplete(["memory", "forget"], {"id": "bee"}, focused="id")
    choices = (await chat.interact(narrowed)).json["data"]["choices"]
    assert [c["value"] for c in choices] == [alice["I keep bees"]]
    assert choices[0]["name"].endswith("I keep bees")


async def test_an_unexpected_failure_is_answered_and_logged(
    chat: Chat,
    engine: MemoryEngine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(engine, "run_command", broken)

    assert (await ask(chat, "pause"))["content"] == SORRY
    [record] = [r for r in caplog.records if r.name == "adapters.discord.answers"]
    assert record.levelno == logging.ERROR and "RuntimeError in memory pause" in record.getMessage()


async def test_history_says_what_changed_privately(chat: Chat) -> None:
    await remember(chat, "I keep bees")

    message = await ask(chat, "history")

    text = embed_text(message)
    assert "added" in text and "I keep bees" in text


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v.name)
async def test_every_memory_verb_is_answered_privately(chat: Chat, verb: Verb) -> None:
    payload, callback = await chat.command(verb.name, sample_options(verb))

    assert callback.json == DEFERRED
    followup = await chat.followup(payload)
    assert followup.json["flags"] & EPHEMERAL
    said = followup.json.get("content") or embed_text(followup.json)
    assert said.strip() and SORRY not in said, said
