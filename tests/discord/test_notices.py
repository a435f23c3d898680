"""The "memory updated" notice on Discord: a reply in the DM (in a server: the person's DM)
with an Undo button that only its owner can use; /memory why gives the message's jump URL."""

from __future__ import annotations

from adapters.discord.normalize import user_ref
from adapters.discord.views import NOT_YOURS
from memory.commands.results import WhyResult
from memory.commands.verbs import MemoryCommand
from tests.discord.conftest import Chat
from tests.discord.test_memory_commands import ask, embed_text
from tests.fakes.discord import APP_ID, OTHER_USER_ID, USER_ID, Json, Request, custom_ids


async def notice_after(chat: Chat, text: str, *, in_server: bool = False) -> Request:
    """Tell the bot something, learn it, and return the notice the bot posted."""
    told = await (chat.mention(text) if in_server else chat.dm(text))
    start = len(chat.fake.requests)
    await chat.learn()
    notices = [
        r
        for r in chat.fake.requests[start:]
        if r.method == "POST" and "/messages" in r.path and "Remembered" in str(r.json)
    ]
    assert len(notices) == 1, [r.path for r in chat.fake.requests[start:]]
    assert told is not None
    return notices[0]


async def undone(chat: Chat, press: Request) -> Json:
    """A pressed Undo: acknowledged at once (type 6), then a private followup says what it did."""
    assert press.json == {"type": 6}
    token = press.path.split("/")[-2]
    followup = await chat.fake.wait_for_request("POST", rf"/webhooks/{APP_ID}/{token}")
    message: Json = followup.json
    return message


async def test_a_dm_notice_replies_with_undo_and_undo_reverts(chat: Chat) -> None:
    notice = await notice_after(chat, "Remember that I keep bees.")

    assert "Remembered: I keep bees" in notice.json["content"]
    assert notice.json.get("message_reference")  # a reply to the message learned from
    [undo] = [c for c in custom_ids(notice.json) if c.startswith("memory:undo:")]
    assert undo.startswith(f"memory:undo:{USER_ID}:")

    refused = await chat.press(undo, notice.response, OTHER_USER_ID)
    assert refused.json["data"]["content"] == NOT_YOURS
    assert [f.text for f in (await chat.show()).facts] == ["I keep bees"]

    done = await undone(chat, await chat.press(undo, notice.response))
    assert "Undone: forgot I keep bees" in str(done)
    assert (await chat.show()).facts == []


async def test_a_server_notice_goes_to_the_persons_dm(chat: Chat) -> None:
    notice = await notice_after(chat, "Remember that I keep bees.", in_server=True)

    dm = chat.fake.channels[int(notice.path.split("/")[2])]
    assert "guild_id" not in dm  # the person's DM, not the server channel
    assert any(c.startswith("memory:undo:") for c in custom_ids(notice.json))


async def test_why_gives_the_jump_url_and_the_words(chat: Chat) -> None:
    await chat.mention("Remember that I keep bees.")
    await chat.learn()
    [fact] = (await chat.show()).facts

    text = embed_text(await ask(chat, "why", {"id": fact.id}))
    why = await chat.engine.run_command(user_ref(USER_ID), MemoryCommand("why", item_id=fact.id))
    assert isinstance(why, WhyResult) and why.permalink
    assert why.permalink.startswith("https://discord.com/channels/")
    assert why.permalink in text and "Remember that I keep bees." in text


async def test_undo_works_from_the_custom_id_alone_as_after_a_restart(chat: Chat) -> None:
    notice = await notice_after(chat, "Remember that I keep bees.")
    [undo] = [c for c in custom_ids(notice.json) if c.startswith("memory:undo:")]
    # A message this client never attached a view to: only the DynamicItem template can
    # answer, as after a restart (the custom_id carries the owner and the change set).
    stranger = {**notice.response, "id": "1400000000000099999"}

    done = await undone(chat, await chat.press(undo, stranger))

    assert "Undone: forgot I keep bees" in str(done)
    assert (await chat.show()).facts == []


async def test_undo_puts_back_a_removal_and_refuses_after_a_newer_change(chat: Chat) -> None:
    first = await notice_after(chat, "Remember that I keep bees.")
    [insert_undo] = [c for c in custom_ids(first.json) if c.startswith("memory:undo:")]
    await chat.dm("I no longer keep bees.")  # the model removes the outdated fact itself
    start = len(chat.fake.requests)
    await chat.learn()
    [removal] = [
        r
        for r in chat.fake.requests[start:]
        if r.method == "POST" and "Memory updated: removed I keep bees" in str(r.json)
    ]
    assert (await chat.show()).facts == []

    # The insert was removed since: undoing it now would overwrite the newer change.
    blocked = await undone(chat, await chat.press(insert_undo, first.response))
    assert "something newer changed the same memory" in str(blocked)
    assert (await chat.show()).facts == []

    [undo] = [c for c in custom_ids(removal.json) if c.startswith("memory:undo:")]
    done = await undone(chat, await chat.press(undo, removal.response))
    assert "Undone: restored I keep bees" in str(done)
    assert [f.text for f in (await chat.show()).facts] == ["I keep bees"]


async def test_an_older_undo_never_restores_what_was_forgotten_under_a_new_id(
    chat: Chat,
) -> None:
    await notice_after(chat, "Remember that I keep Quokkabees.")
    await chat.dm("I no longer keep Quokkabees.")
    start = len(chat.fake.requests)
    await chat.learn()
    [removal] = [
        r
        for r in chat.fake.requests[start:]
        if r.method == "POST" and "Memory updated: removed I keep Quokkabees" in str(r.json)
    ]
    await notice_after(chat, "Remember that I keep Quokkabees.")  # a new item, a new id
    await chat.dm("Forget that I keep Quokkabees.")
    await chat.learn()
    assert (await chat.show()).facts == []

    [undo] = [c for c in custom_ids(removal.json) if c.startswith("memory:undo:")]
    answer = await undone(chat, await chat.press(undo, removal.response))

    assert "that memory was forgotten since" in str(answer)
    assert (await chat.show()).facts == []
