"""Messages sent while the bot was away (stopped, or a session that could not be resumed) are
answered once after it connects again; what it had already answered is not answered twice."""

from __future__ import annotations

from adapters.discord.client import inbox_key
from bot.storage import Storage
from memory.engine import MemoryEngine
from memory.intake.delivery import LATE_NOTE, Delivery
from tests.discord.conftest import Chat, DiscordOptions, build_client, channel_posts, running
from tests.fakes.discord import BOT_ID, CHANNEL_ID, GUILD_ID, OTHER_USER_ID, FakeDiscord


async def test_dms_and_mentions_sent_while_away_are_answered_once(
    fake: FakeDiscord, engine: MemoryEngine, storage: Storage
) -> None:
    delivery = Delivery(storage.inbox)  # the inbox in the database outlives the client
    options = DiscordOptions(guild_ready_timeout=0.05, catch_up_seconds=600)
    async with running(build_client(engine, options, delivery), fake):
        answered = await Chat(fake, engine).dm("Remember that I keep bees.")
    dm_channel = int(answered.path.split("/")[2])
    before = len(channel_posts(fake, dm_channel))

    # Away: nobody hears these (no gateway connection), they are only in the channels' history.
    fake.message_create("Did you note that?")  # alice's DM, the channel the bot knows
    fake.message_create(
        f"<@{BOT_ID}> are you there?", author_id=OTHER_USER_ID, guild_id=GUILD_ID, mentions=[BOT_ID]
    )
    fake.message_create("just chatting", author_id=OTHER_USER_ID, guild_id=GUILD_ID)  # not to it

    async with running(build_client(engine, options, delivery), fake) as client:
        await fake.wait_for(
            lambda _requests: (
                len(channel_posts(fake, dm_channel)) > before
                and len(channel_posts(fake, CHANNEL_ID)) >= 1
            ),
            timeout=10,
        )
        assert client._catching_up is not None
        assert await client._catching_up == 2  # the same two, once, whatever ran first

    dm_posts = channel_posts(fake, dm_channel)
    assert len(dm_posts) == before + 1  # the already answered DM was not answered again
    late = dm_posts[-1].json
    assert late is not None and str(late["content"]).startswith(LATE_NOTE)
    mentions = channel_posts(fake, CHANNEL_ID)
    assert len(mentions) == 1


async def test_a_message_whose_process_died_is_fetched_and_answered_late(
    fake: FakeDiscord, engine: MemoryEngine, storage: Storage
) -> None:
    delivery = Delivery(storage.inbox)
    options = DiscordOptions(guild_ready_timeout=0.05, catch_up_seconds=0)
    message = fake.message_create("Remember that I keep bees.")
    channel_id, message_id = int(message["channel_id"]), int(message["id"])
    key = inbox_key(channel_id, message_id)
    # Recorded and taken by a process that was then killed: its lease runs out.
    await delivery.record(key, {"channel_id": str(channel_id), "message_id": str(message_id)})
    assert await storage.inbox.claim(key, "killed", lease_seconds=-1)

    async with running(build_client(engine, options, delivery), fake):
        assert await delivery.recover() == 1
        await fake.wait_for(lambda _requests: channel_posts(fake, channel_id), timeout=10)

    posts = channel_posts(fake, channel_id)
    assert len(posts) == 1 and posts[0].json is not None
    assert str(posts[0].json["content"]).startswith(LATE_NOTE)
    assert await delivery.record(key, {}) == "done"
