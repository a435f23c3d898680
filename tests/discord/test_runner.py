"""Starting and stopping as `bot` does: DiscordAdapter, DISCORD_API_URL, shards, resume, logs."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import discord.gateway
import discord.http
import pytest
import yarl
from aiohttp import web

from adapters.discord.client import DiscordOptions
from adapters.discord.render import HELP
from adapters.discord.runner import DiscordAdapter, endpoints
from memory.commands.verbs import USAGE, VERBS
from memory.engine import MemoryEngine
from memory.errors import ConfigurationError
from tests.discord.conftest import Chat
from tests.fakes.discord import APP_ID, TOKEN, FakeDiscord, Json, Request
from tests.logcheck import loud_records_saying, said

SECRET_TEXT = "Remember that my locker code is 4711."


@pytest.fixture
async def bare_fake() -> AsyncIterator[FakeDiscord]:
    """A fake that discord.py is NOT pointed at: the adapter must do it from api_url."""
    async with ShardedFake() as server:
        yield server


class ShardedFake(FakeDiscord):
    """Discord echoes IDENTIFY's `shard: [id, count]` in READY (discord.py's sharded state
    reads it); FakeDiscord leaves it out, so this adds it."""

    shard: list[int] | None = None

    async def _on_frame(self, ws: web.WebSocketResponse, frame: Json) -> None:
        if frame.get("op") == 2:
            self.shard = (frame.get("d") or {}).get("shard")
        await super()._on_frame(ws, frame)

    def _ready_payload(self) -> Json:
        ready = super()._ready_payload()
        return {**ready, "shard": self.shard} if self.shard else ready


async def start(engine: MemoryEngine, fake: FakeDiscord, **options: Any) -> asyncio.Task[None]:
    adapter = DiscordAdapter(
        engine,
        token=TOKEN,
        api_url=f"http://127.0.0.1:{fake.port}",
        options=DiscordOptions(**options),
    )
    task = asyncio.create_task(adapter.run())
    await fake.wait_for_gateway(2)  # IDENTIFY
    return task


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_endpoints_for_a_discord_api_url() -> None:
    assert endpoints("http://127.0.0.1:8080") == (
        "http://127.0.0.1:8080/api/v10",
        yarl.URL("ws://127.0.0.1:8080/gateway"),
    )
    assert endpoints("https://discord.example/api/v10/") == (
        "https://discord.example/api/v10",
        yarl.URL("wss://discord.example/gateway"),
    )
    with pytest.raises(ConfigurationError, match="DISCORD_API_URL"):
        endpoints("127.0.0.1:8080")


async def test_the_adapter_answers_and_stops_cleanly(
    engine: MemoryEngine, bare_fake: FakeDiscord
) -> None:
    before = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    task = await start(engine, bare_fake)
    try:
        put = await bare_fake.wait_for_request("PUT", rf"/applications/{APP_ID}/commands")
        assert [c["name"] for c in put.json] == ["memory"]
        # Every verb of the one /memory surface (memory.commands.verbs.VERBS) is a subcommand here,
        # as declared there: name, description, arguments (their help, whether required,
        # their choices), and nothing else.
        by_name = lambda entry: entry["name"]  # noqa: E731
        assert sorted(subcommands(put.json[0]), key=by_name) == sorted(declared(), key=by_name)
        reply = await Chat(bare_fake, engine).dm("hello")
        assert reply.json["content"].startswith("Noted.")
    finally:
        await stop(task)
    assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)


def subcommands(memory: Json) -> list[Json]:
    """The /memory subcommands Discord was sent, in the shape of `declared()`."""
    return [
        {
            "name": sub["name"],
            "description": sub["description"],
            "options": [
                {
                    "name": option["name"],
                    "description": option["description"],
                    "required": option.get("required", False),
                    "choices": [c["value"] for c in option.get("choices", [])],
                }
                for option in sub.get("options", [])
            ],
        }
        for sub in memory["options"]
    ]


def declared() -> list[Json]:
    return [
        {
            "name": verb.name,
            "description": verb.help,
            "options": [
                {
                    "name": a.name,
                    "description": a.help,
                    "required": a.required,
                    "choices": list(a.choices),
                }
                for a in verb.arguments
            ],
        }
        for verb in VERBS
    ]


async def test_commands_sync_to_one_server_for_development(
    engine: MemoryEngine, bare_fake: FakeDiscord
) -> None:
    task = await start(engine, bare_fake, guild_id=4242)
    try:
        put = await bare_fake.wait_for_request(
            "PUT", rf"/applications/{APP_ID}/guilds/4242/commands"
        )
        assert [c["name"] for c in put.json] == ["memory"]
        assert not [r for r in bare_fake.requests if r.path == f"/applications/{APP_ID}/commands"]
    finally:
        await stop(task)


@pytest.mark.parametrize("shard_count", [0, 1])
async def test_a_sharded_client_identifies_with_its_shard_and_answers(
    engine: MemoryEngine, bare_fake: FakeDiscord, shard_count: int
) -> None:
    task = await start(engine, bare_fake, shard_count=shard_count)
    try:
        asked = [r for r in bare_fake.requests if r.path == "/gateway/bot"]
        assert bool(asked) == (shard_count == 0)  # 0: Discord says how many shards
        identify = await bare_fake.wait_for_gateway(2)
        assert identify["d"]["shard"] == [0, 1]
        reply = await Chat(bare_fake, engine).dm("hello shards")
        assert reply.json["content"].startswith("Noted.")
    finally:
        await stop(task)


async def test_a_process_runs_only_its_own_shards(
    engine: MemoryEngine, bare_fake: FakeDiscord
) -> None:
    task = await start(engine, bare_fake, shard_count=3, shard_ids=(1,))
    try:
        identify = await bare_fake.wait_for_gateway(2)
        assert identify["d"]["shard"] == [1, 3]
        assert [f for f in bare_fake.gateway_frames if f.get("op") == 2] == [identify]
    finally:
        await stop(task)


class RejectingFake(FakeDiscord):
    """Discord's answer to a wrong token: 401 on the first call, GET /users/@me."""

    def _get_me(self, request: Request, match: re.Match[str]) -> web.Response:
        body = json.dumps({"message": "401: Unauthorized", "code": 0}).encode()
        return web.Response(status=401, body=body, content_type="application/json")


async def test_a_rejected_token_is_a_configuration_error(engine: MemoryEngine) -> None:
    async with RejectingFake() as fake:
        with pytest.raises(ConfigurationError, match="rejected DISCORD_TOKEN"):
            await DiscordAdapter(
                engine, token="wrong", api_url=f"http://127.0.0.1:{fake.port}"
            ).run()
    assert not fake.gateway_frames


@pytest.mark.parametrize("reconnect", [True])
async def test_a_dropped_connection_resumes_and_the_bot_still_answers(
    chat: Chat, fake: FakeDiscord
) -> None:
    identify = await fake.wait_for_gateway(2)
    await chat.dm("before the drop")
    last = fake.sequence

    await fake.drop_connection()
    resume = await fake.wait_for_gateway(6)

    assert resume["d"] == {"token": TOKEN, "session_id": fake.session_id, "seq": last}
    reply = await chat.dm("still there?")
    assert reply.json["content"].startswith("Noted.")
    assert [f for f in fake.gateway_frames if f["op"] == 2] == [identify]


async def test_no_token_in_debug_logs_and_no_message_text_at_info(
    engine: MemoryEngine, bare_fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    task = await start(engine, bare_fake)
    try:
        chat = Chat(bare_fake, engine)
        await chat.dm(SECRET_TEXT)
        await chat.mention(SECRET_TEXT)
        await chat.learn()
        payload, _ = await chat.command("export")
        await chat.followup(payload)
        await bare_fake.drop_connection()
        await bare_fake.wait_for_gateway(6)
        await chat.dm("after the resume")
    finally:
        await stop(task)

    assert caplog.records, "expected discord.py and the adapter to log at DEBUG"
    for record in caplog.records:
        assert TOKEN not in said(record), (record.name, record.getMessage()[:300])
    assert not loud_records_saying(caplog.records, "4711")


def test_what_a_record_says_leaves_out_its_timing_fields() -> None:
    record = logging.makeLogRecord({"msg": "sent %s", "args": ("hello",), "user": "discord:5"})
    record.relativeCreated, record.msecs = 2759.1254711151123, 471.1
    assert "4711" not in said(record)
    assert "hello" in said(record) and "discord:5" in said(record)


def test_the_help_names_every_verb() -> None:
    for line in USAGE.splitlines():
        verb = line.split()[1]
        assert f"/memory {verb}" in HELP or verb == "help", verb
