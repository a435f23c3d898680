"""A local fake of Discord (REST API + gateway) for tests that run the real discord.py.

Usage::

    async with FakeDiscord() as fake:
        fake.patch_discord(monkeypatch)          # or: with fake.patched(): ...
        client = MyClient(intents=..., guild_ready_timeout=0.05)
        await client.login(TOKEN)
        task = asyncio.create_task(client.connect(reconnect=False))
        await client.wait_until_ready()
        await fake.dispatch("MESSAGE_CREATE", fake.message_create("hi"))
        reply = await fake.wait_for_request("POST", r"/channels/\\d+/messages")
        await client.close()
        await task

Every REST call is recorded in ``fake.requests`` (paths relative to ``/api/v10``) and every
gateway frame the client sends in ``fake.gateway_frames``. Waiting is done on an
``asyncio.Condition`` that is notified on each new record, never by sleeping.

The parts: ``ids`` (fixed ids and flags), ``records`` (what is recorded), ``world`` (the guild
and its payloads), ``events`` (payloads sent to the bot), ``recording`` (records and waiting),
``gateway`` (the websocket), ``rest`` (the REST routes) and ``server`` (FakeDiscord).
"""

from .events import custom_ids
from .ids import (
    API_PREFIX,
    APP_ID,
    APP_PERMISSIONS,
    ATTACHMENT_SIZE_LIMIT,
    BOT_ID,
    BOT_ROLE_ID,
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    LOADING,
    MEMBER_PERMISSIONS,
    OTHER_ROLE_ID,
    OTHER_USER_ID,
    OWNER_ID,
    TOKEN,
    USER_ID,
    Json,
)
from .records import Request, UploadedFile
from .rest import Handler
from .server import FakeDiscord

__all__ = [
    "API_PREFIX",
    "APP_ID",
    "APP_PERMISSIONS",
    "ATTACHMENT_SIZE_LIMIT",
    "BOT_ID",
    "BOT_ROLE_ID",
    "CHANNEL_ID",
    "EPHEMERAL",
    "GUILD_ID",
    "LOADING",
    "MEMBER_PERMISSIONS",
    "OTHER_ROLE_ID",
    "OTHER_USER_ID",
    "OWNER_ID",
    "TOKEN",
    "USER_ID",
    "FakeDiscord",
    "Handler",
    "Json",
    "Request",
    "UploadedFile",
    "custom_ids",
]
