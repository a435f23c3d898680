"""Chat over the gateway: DMs, mentions, replies, long answers, privacy, reactions, failures."""

from __future__ import annotations

import re

from langchain_core.messages import AIMessage, HumanMessage

from adapters.discord.client import LEARNED_REACTION, DiscordOptions, build_client
from memory.engine import APOLOGY, MemoryEngine
from tests.discord.conftest import ALICE, Chat, channel_posts, running
from tests.fakes.discord import (
    BOT_ID,
    BOT_ROLE_ID,
    CHANNEL_ID,
    GUILD_ID,
    OTHER_ROLE_ID,
    OTHER_USER_ID,
    USER_ID,
    FakeDiscord,
    Request,
)
from tests.rules import memory_script
from tests.scripted_model import ScriptedCall, ScriptedChatModel


def replied_to(request: Request) -> str:
    return str(request.json["message_reference"]["message_id"])


def last_human(model: ScriptedChatModel) -> str:
    chat_calls = [c for c in model.calls if not c.tools]
    return [m for m in chat_calls[-1].messages if isinstance(m, HumanMessage)][-1].text


async def test_a_dm_is_answered_as_a_reply_while_typing(chat: Chat, fake: FakeDiscord) -> None:
    incoming = fake.message_create("hello bot", author_id=USER_ID)
    reply = await chat.send(incoming)

    assert reply.authorized
    assert reply.json["content"].startswith("Noted.")
    assert replied_to(reply) == incoming["id"]
    typing = [r for r in fake.requests if r.path == f"/channels/{incoming['channel_id']}/typing"]
    assert typing and fake.requests.index(typing[0]) < fake.requests.index(reply)


async def test_a_server_mention_is_answered_with_a_message_reference(
    chat: Chat, fake: FakeDiscord, model: ScriptedChatModel
) -> None:
    message = fake.message_create(
        f"<@{BOT_ID}> hello <@{OTHER_USER_ID}>, meet the bot",
        guild_id=GUILD_ID,
        mentions=[BOT_ID, OTHER_USER_ID],
    )
    reply = await chat.send(message)

    assert replied_to(reply) == message["id"]
    assert reply.response["referenced_message"]["id"] == message["id"]
    # The bot's own mention is gone; other mentions are names; the author is named.
    assert last_human(model) == "Alice: hello @Bob, meet the bot"


async def test_a_thread_is_a_conversation_of_its_own(
    chat: Chat, fake: FakeDiscord, model: ScriptedChatModel
) -> None:
    thread_id = fake.snowflake()
    thread = {
        "id": str(thread_id),
        "guild_id": str(GUILD_ID),
        "parent_id": str(CHANNEL_ID),
        "owner_id": str(USER_ID),
        "name": "planning",
        "type": 11,  # public thread
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": "2026-01-01T00:00:00+00:00",
            "locked": False,
        },
    }
    fake.channels[thread_id] = thread
    await fake.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
    await chat.mention("said in the channel")

    in_thread = fake.message_create(
        f"<@{BOT_ID}> said in the thread", channel_id=thread_id, mentions=[BOT_ID]
    )
    reply = await chat.send(in_thread)

    assert replied_to(reply) == in_thread["id"]
    chat_calls = [c for c in model.calls if not c.tools]
    history = [m.text for m in chat_calls[-1].messages if isinstance(m, HumanMessage)]
    assert history == ["Alice: said in the thread"]  # the channel's turn is another thread

    await chat.mention("back in the channel")
    history = [m.text for m in model.calls[-1].messages if isinstance(m, HumanMessage)]
    assert history == ["Alice: said in the channel", "Alice: back in the channel"]


async def test_a_server_message_without_a_mention_is_ignored(chat: Chat, fake: FakeDiscord) -> None:
    ignored = fake.message_create("just chatting with friends", guild_id=GUILD_ID)
    await fake.dispatch("MESSAGE_CREATE", ignored)
    answered = await chat.mention("are you there?")

    [post] = channel_posts(fake)
    assert post is answered
    assert replied_to(answered) != ignored["id"]


async def test_a_reply_to_the_bot_is_answered_without_a_mention(
    chat: Chat, fake: FakeDiscord, model: ScriptedChatModel
) -> None:
    first = await chat.mention("hi")
    bot_message = first.response
    follow_up = fake.message_create(
        "and one more thing", guild_id=GUILD_ID, message_reference={"message_id": bot_message["id"]}
    )
    reply = await chat.send(follow_up)

    assert replied_to(reply) == follow_up["id"]
    assert last_human(model) == "Alice: and one more thing"


async def test_a_reply_to_someone_else_is_ignored(chat: Chat, fake: FakeDiscord) -> None:
    human = fake.message_create("my message", author_id=OTHER_USER_ID, guild_id=GUILD_ID)
    await fake.dispatch("MESSAGE_CREATE", human)
    reply_to_human = fake.message_create(
        "replying to bob", guild_id=GUILD_ID, message_reference={"message_id": human["id"]}
    )
    await fake.dispatch("MESSAGE_CREATE", reply_to_human)
    answered = await chat.mention("only this one")

    assert channel_posts(fake) == [answered]


async def test_bots_and_the_bot_itself_are_ignored(chat: Chat, fake: FakeDiscord) -> None:
    other_bot = fake.add_user("helper-bot", bot=True, guild_member=True)
    from_bot = fake.message_create(
        f"<@{BOT_ID}> ping", author_id=int(other_bot["id"]), guild_id=GUILD_ID, mentions=[BOT_ID]
    )
    own = fake.message_create(f"<@{BOT_ID}> me", author_id=BOT_ID, guild_id=GUILD_ID)
    await fake.dispatch("MESSAGE_CREATE", from_bot)
    await fake.dispatch("MESSAGE_CREATE", own)
    answered = await chat.mention("a human")

    assert channel_posts(fake) == [answered]


async def test_a_mention_of_the_bots_own_role_is_answered(
    chat: Chat, fake: FakeDiscord, model: ScriptedChatModel
) -> None:
    # Discord's autocomplete offers "@Memory Bot" the role next to the bot; people pick either.
    message = fake.message_create(
        f"<@&{BOT_ROLE_ID}> what do you know?", guild_id=GUILD_ID, mention_roles=[BOT_ROLE_ID]
    )
    reply = await chat.send(message)

    assert replied_to(reply) == message["id"]
    assert last_human(model) == "Alice: what do you know?"


async def test_other_roles_and_system_messages_are_ignored(chat: Chat, fake: FakeDiscord) -> None:
    other_role = fake.message_create(
        f"<@&{OTHER_ROLE_ID}> anyone?", guild_id=GUILD_ID, mention_roles=[OTHER_ROLE_ID]
    )
    joined = fake.message_create(f"<@{BOT_ID}>", guild_id=GUILD_ID, mentions=[BOT_ID])
    joined["type"] = 7  # "alice joined the server", which Discord may word with a mention
    pinned = fake.message_create("", guild_id=GUILD_ID)
    pinned["type"] = 6  # "alice pinned a message"
    for message in (other_role, joined, pinned):
        await fake.dispatch("MESSAGE_CREATE", message)
    answered = await chat.mention("a real question")

    assert channel_posts(fake) == [answered]


async def test_a_redelivered_message_is_answered_once(chat: Chat, fake: FakeDiscord) -> None:
    message = fake.message_create("once please")
    await chat.send(message)
    await fake.dispatch("MESSAGE_CREATE", message)  # e.g. replayed after a resume
    await chat.dm("next")

    posts = channel_posts(fake, int(message["channel_id"]))
    assert [replied_to(p) for p in posts].count(message["id"]) == 1


async def test_long_answers_are_split_under_2000_characters(
    chat: Chat, fake: FakeDiscord, model: ScriptedChatModel
) -> None:
    paragraphs = [f"Paragraph {n}: " + " ".join(["word"] * 150) for n in range(8)]
    answer = "\n\n".join(paragraphs)  # about 6,000 characters

    def long_answer(call: ScriptedCall) -> AIMessage:
        return AIMessage(content=answer) if not call.tools else memory_script(call)

    model.script = long_answer
    message = fake.message_create("tell me a lot")
    channel = int(message["channel_id"])
    await chat.send(message)

    def all_parts(_: object) -> list[Request]:
        posts = channel_posts(fake, channel)
        sent = " ".join(p.json["content"] for p in posts)
        return posts if sent.split() == answer.split() else []

    posts = await fake.wait_for(all_parts)

    assert len(posts) >= 4
    assert all(len(p.json["content"]) <= 2000 for p in posts)
    assert all(p.json["content"].startswith("Paragraph") for p in posts)  # clean cuts
    assert replied_to(posts[0]) == message["id"]
    assert all("message_reference" not in p.json for p in posts[1:])


async def test_a_long_code_block_is_split_with_balanced_fences_and_its_indentation(
    chat: Chat, fake: FakeDiscord, model: ScriptedChatModel
) -> None:
    body = "\n".join(f"    if x > {n}:\n        total += {n}  # step {n}" for n in range(55))
    answer = f"Here you go:\n\n```python\ndef count(x):\n{body}\n```\n\nThat is all."
    assert 2000 < len(answer) < 4000
    model.script = lambda call: AIMessage(content=answer) if not call.tools else memory_script(call)
    message = fake.message_create("show me code")
    channel = int(message["channel_id"])
    await chat.send(message)

    def all_parts(_: object) -> list[Request]:
        posts = channel_posts(fake, channel)
        sent = "".join(p.json["content"] for p in posts)
        return posts if "That is all." in sent else []

    contents = [p.json["content"] for p in await fake.wait_for(all_parts)]

    assert len(contents) == 2 and all(len(c) <= 2000 for c in contents)
    assert contents[0].endswith("\n```") and contents[1].startswith("```python\n    ")
    for content in contents:
        assert content.count("```") % 2 == 0
    sent_lines = {line for c in contents for line in c.split("\n")}
    assert all(line in sent_lines for line in answer.split("\n") if line.strip())


async def test_answers_never_ping_everyone_roles_or_users(
    chat: Chat, fake: FakeDiscord, model: ScriptedChatModel
) -> None:
    role = GUILD_ID + 7
    text = f"@everyone @here <@&{role}> <@{OTHER_USER_ID}> look at this"
    model.script = lambda call: AIMessage(content=text) if not call.tools else memory_script(call)

    reply = await chat.mention("ping people")

    assert reply.json["content"] == text
    mentions = reply.json["allowed_mentions"]
    assert mentions["parse"] == []
    assert not mentions.get("users") and not mentions.get("roles")


async def test_a_dm_learned_memory_never_appears_in_a_server_answer(
    chat: Chat, engine: MemoryEngine
) -> None:
    await chat.dm("Remember that I am interviewing at another company.")
    await chat.mention("Remember that I own the deploy pipeline.")
    await chat.learn()

    in_server = await chat.mention("What do you know about me?")
    in_dm = await chat.dm("What do you know about me?")

    assert "deploy pipeline" in in_server.json["content"]
    assert "interviewing" not in in_server.json["content"]
    assert "interviewing" in in_dm.json["content"]


async def test_the_bot_reacts_to_a_message_it_learned_from(chat: Chat, fake: FakeDiscord) -> None:
    message = fake.message_create("Remember that I keep bees.")
    await chat.send(message)
    chatter = fake.message_create("nice weather")
    await chat.send(chatter)
    await chat.learn()

    reaction = await fake.wait_for_request(
        "PUT", rf"/channels/{message['channel_id']}/messages/{message['id']}/reactions/.+/@me"
    )
    assert reaction.path.split("/")[-2] == LEARNED_REACTION
    assert reaction.status == 204
    reacted = [r for r in fake.requests if "/reactions/" in r.path]
    assert len(reacted) >= 1  # messages learned together may each be marked
    assert all(re.search(rf"/messages/({message['id']}|{chatter['id']})/", r.path) for r in reacted)


async def test_no_reaction_when_switched_off(fake: FakeDiscord, engine: MemoryEngine) -> None:
    options = DiscordOptions(react_when_learned=False, guild_ready_timeout=0.05)
    async with running(build_client(engine, options), fake):
        await Chat(fake, engine).dm("Remember that I keep bees.")
        await engine.learn_now(ALICE.key)
        assert "I keep bees" in [f.text for f in (await Chat(fake, engine).show()).facts]

    assert not [r for r in fake.requests if "/reactions/" in r.path]


async def test_an_llm_failure_gives_an_apology(
    chat: Chat, fake: FakeDiscord, model: ScriptedChatModel
) -> None:
    def broken(call: ScriptedCall) -> AIMessage:
        raise RuntimeError("provider down")

    model.script = broken
    reply = await chat.mention("hello?")

    assert reply.json["content"] == APOLOGY
    assert channel_posts(fake, CHANNEL_ID) == [reply]
