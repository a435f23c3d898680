"""The Discord fake driven by the real discord.py: login, gateway, commands, buttons, resume."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from .discord import (
    APP_ID,
    BOT_ID,
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    OTHER_USER_ID,
    TOKEN,
    USER_ID,
    FakeDiscord,
    custom_ids,
)

EXPORT = b'{"memories": ["likes tea"]}'


class ConfirmView(discord.ui.View):
    """A "forget" confirmation that only the person it was offered to may press."""

    def __init__(self, owner_id: int, errors: list[BaseException]) -> None:
        super().__init__(timeout=None)
        self.owner_id = owner_id
        self.errors = errors
        self.pressed_by: list[int] = []

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message("This button is not for you.", ephemeral=True)
        return False

    @discord.ui.button(label="Forget", style=discord.ButtonStyle.danger)
    async def forget(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.pressed_by.append(interaction.user.id)
        await interaction.response.edit_message(content="Forgotten.", view=None)
        self.stop()

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        self.errors.append(error)


class MemoryClient(discord.Client):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(intents=intents, guild_ready_timeout=0.05)
        self.errors: list[BaseException] = []
        self.views: list[ConfirmView] = []
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self.on_tree_error  # type: ignore[method-assign]
        memory = app_commands.Group(name="memory", description="What the bot remembers about you")

        @memory.command(name="show", description="Show what the bot remembers")
        async def show(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_message(
                f"I remember that <@{interaction.user.id}> likes tea.", ephemeral=True
            )

        @memory.command(name="export", description="Download what the bot remembers")
        async def export(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            file = discord.File(io.BytesIO(EXPORT), filename="memories.json")
            await interaction.followup.send("Here is everything.", file=file, ephemeral=True)

        @memory.command(name="forget", description="Forget one topic")
        async def forget(interaction: discord.Interaction[Any], topic: str) -> None:
            await interaction.response.send_message(f"Forgot {topic}.", ephemeral=True)

        @forget.autocomplete("topic")
        async def topics(
            interaction: discord.Interaction[Any], current: str
        ) -> list[app_commands.Choice[str]]:
            known = ["coffee", "cocoa", "tea"]
            return [app_commands.Choice(name=t, value=t) for t in known if t.startswith(current)]

        self.tree.add_command(memory)

    async def on_tree_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        self.errors.append(error)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        self.errors.append(sys.exc_info()[1] or RuntimeError(event_method))

    async def on_message(self, message: discord.Message) -> None:
        assert self.user is not None
        if message.author.id == self.user.id:
            return
        if message.guild is None:
            await message.reply(f"echo: {message.content}")
        elif self.user in message.mentions:
            view = ConfirmView(message.author.id, self.errors)
            self.views.append(view)
            await message.reply("Forget everything about you?", view=view)


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        fake.patch_discord(monkeypatch)
        yield fake


@pytest.fixture
def reconnect() -> bool:
    return False


@pytest.fixture
async def client(fake: FakeDiscord, reconnect: bool) -> AsyncIterator[MemoryClient]:
    client = MemoryClient()
    await client.login(TOKEN)
    running = asyncio.create_task(client.connect(reconnect=reconnect))
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait({running, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        await client.close()
        await running  # raises what went wrong
        raise AssertionError(f"client never became ready\n{fake.describe()}")
    yield client
    await client.close()
    await running
    assert client.errors == []


async def test_login_identify_ready_and_sync(fake: FakeDiscord, client: MemoryClient) -> None:
    assert [(r.method, r.path) for r in fake.requests[:2]] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
    ]
    identify = await fake.wait_for_gateway(2)
    assert identify["d"]["token"] == TOKEN
    assert identify["d"]["intents"] & discord.Intents(message_content=True).value
    assert client.user is not None and client.user.id == BOT_ID
    assert client.application_id == APP_ID
    guild = client.get_guild(GUILD_ID)
    assert guild is not None and guild.me is not None
    assert guild.get_channel(CHANNEL_ID) is not None

    synced = await client.tree.sync()
    put = await fake.wait_for_request("PUT", rf"/applications/{APP_ID}/commands")
    assert [c["name"] for c in put.json] == ["memory"]
    subcommands = {o["name"]: o["type"] for o in put.json[0]["options"]}
    assert subcommands == {"show": 1, "export": 1, "forget": 1}
    assert [c.id for c in synced] == [int(c["id"]) for c in put.response]

    client.tree.copy_global_to(guild=discord.Object(GUILD_ID))
    await client.tree.sync(guild=discord.Object(GUILD_ID))
    await fake.wait_for_request("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")


async def test_dm_message_gets_a_reply(fake: FakeDiscord, client: MemoryClient) -> None:
    incoming = fake.message_create("hello bot", author_id=USER_ID)
    await fake.dispatch("MESSAGE_CREATE", incoming)

    reply = await fake.wait_for_request("POST", rf"/channels/{incoming['channel_id']}/messages")
    assert reply.authorized
    assert reply.json["content"] == "echo: hello bot"
    assert int(reply.json["message_reference"]["message_id"]) == int(incoming["id"])
    assert reply.response["referenced_message"]["id"] == incoming["id"]


async def test_memory_show_answers_ephemerally(fake: FakeDiscord, client: MemoryClient) -> None:
    interaction = fake.interaction_create(["memory", "show"], user_id=USER_ID, guild_id=GUILD_ID)
    await fake.dispatch("INTERACTION_CREATE", interaction)

    callback = await fake.wait_for_request(
        "POST", rf"/interactions/{interaction['id']}/{interaction['token']}/callback"
    )
    assert callback.query == {"with_response": "1"}
    assert not callback.authorized
    assert callback.json["type"] == 4
    assert callback.json["data"]["flags"] == EPHEMERAL
    assert callback.json["data"]["content"] == f"I remember that <@{USER_ID}> likes tea."


async def test_memory_export_defers_then_sends_a_file(
    fake: FakeDiscord, client: MemoryClient
) -> None:
    interaction = fake.interaction_create(["memory", "export"], user_id=USER_ID)  # in a DM
    await fake.dispatch("INTERACTION_CREATE", interaction)

    token = interaction["token"]
    callback = await fake.wait_for_request("POST", rf"/interactions/\d+/{token}/callback")
    assert callback.json == {"type": 5, "data": {"flags": EPHEMERAL}}
    followup = await fake.wait_for_request("POST", rf"/webhooks/{APP_ID}/{token}")
    assert followup.query["wait"] == "1"
    assert followup.json["content"] == "Here is everything."
    assert followup.json["flags"] == EPHEMERAL
    [upload] = followup.files
    assert (upload.field, upload.filename, upload.content) == ("files[0]", "memories.json", EXPORT)
    assert followup.response["attachments"][0]["filename"] == "memories.json"


async def test_autocomplete_offers_matching_topics(fake: FakeDiscord, client: MemoryClient) -> None:
    request = fake.autocomplete(["memory", "forget"], {"topic": "co"}, focused="topic")
    await fake.dispatch("INTERACTION_CREATE", request)

    callback = await fake.wait_for_request("POST", rf"/interactions/{request['id']}/\S+/callback")
    assert callback.json["type"] == 8
    assert [c["value"] for c in callback.json["data"]["choices"]] == ["coffee", "cocoa"]


async def test_button_refuses_other_users(fake: FakeDiscord, client: MemoryClient) -> None:
    mention = fake.message_create(
        f"<@{BOT_ID}> forget me", author_id=USER_ID, guild_id=GUILD_ID, mentions=[BOT_ID]
    )
    await fake.dispatch("MESSAGE_CREATE", mention)
    sent = await fake.wait_for_request("POST", rf"/channels/{CHANNEL_ID}/messages")
    offer = sent.response
    [custom_id] = custom_ids(offer)

    intruder = fake.component_interaction(custom_id, OTHER_USER_ID, offer)
    await fake.dispatch("INTERACTION_CREATE", intruder)
    refusal = await fake.wait_for_request("POST", rf"/interactions/{intruder['id']}/\S+/callback")
    assert refusal.json["type"] == 4
    assert refusal.json["data"]["flags"] == EPHEMERAL

    owner = fake.component_interaction(custom_id, USER_ID, offer)
    await fake.dispatch("INTERACTION_CREATE", owner)
    update = await fake.wait_for_request("POST", rf"/interactions/{owner['id']}/\S+/callback")
    assert update.json["type"] == 7
    assert update.json["data"]["content"] == "Forgotten."
    assert update.json["data"]["components"] == []
    assert client.views[0].pressed_by == [USER_ID]
    assert fake.messages[int(offer["id"])]["content"] == "Forgotten."


@pytest.mark.parametrize("reconnect", [True, False])
async def test_dropped_connection_is_resumed(fake: FakeDiscord, client: MemoryClient) -> None:
    identify = await fake.wait_for_gateway(2)
    resumed = asyncio.create_task(client.wait_for("resumed"))
    last_sequence = fake.sequence

    await fake.drop_connection()
    resume = await fake.wait_for_gateway(6)
    assert resume["d"] == {"token": TOKEN, "session_id": fake.session_id, "seq": last_sequence}
    await asyncio.wait_for(resumed, timeout=5)

    incoming = fake.message_create("still there?", author_id=USER_ID)
    sequence = await fake.dispatch("MESSAGE_CREATE", incoming)
    assert sequence > last_sequence
    reply = await fake.wait_for_request("POST", rf"/channels/{incoming['channel_id']}/messages")
    assert reply.json["content"] == "echo: still there?"
    assert [f for f in fake.gateway_frames if f["op"] == 2] == [identify]


async def test_fake_answers_plain_json_and_reports_timeouts(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.api_base}/users/@me") as response:
            assert response.headers["Content-Type"] == "application/json"
            assert json.loads(await response.read())["id"] == str(BOT_ID)
        async with session.get(f"{fake.api_base}/nowhere") as response:
            assert response.status == 404

    with pytest.raises(AssertionError, match=r"GET /nowhere -> 404"):
        await fake.wait_for_request("POST", r"/channels/\d+/messages", timeout=0.2)


async def test_patched_restores_discord_urls() -> None:
    before = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake:
        with fake.patched():
            assert discord.http.Route("GET", "/users/@me").url == f"{fake.api_base}/users/@me"
            assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake.gateway_url
    assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
