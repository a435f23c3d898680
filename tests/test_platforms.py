"""The platform registry (bot.platforms) and the run loop (bot.serve): a platform registered
in the one list is switched on by its settings, its routes are served on bot's web app beside
/healthz and /metrics, it is run, and shutdown waits until it has drained."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

import bot.platforms
from bot.cli import _secrets
from bot.platforms import PLATFORMS, Platform, enabled_platforms
from bot.serve import run_platforms, serve
from bot.settings import Settings
from bot.storage import Storage
from memory.engine import MemoryEngine
from memory.errors import ConfigurationError
from memory.intake.delivery import Delivery


class FakeAdapter:
    """A third platform's adapter: one route, a run that lasts until cancelled, and a drain
    the test releases."""

    def __init__(self) -> None:
        self.routes = [web.get("/fake/hello", self.hello)]
        self.running = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.draining = asyncio.Event()
        self.release = asyncio.Event()

    async def hello(self, _request: web.Request) -> web.Response:
        return web.Response(text="hello from fake")

    async def run(self) -> None:
        self.running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise

    async def drained(self) -> None:
        self.draining.set()
        await self.release.wait()


class FakePlatform:
    name = "fake"
    setting_hint = "FAKE_TOKEN"

    def __init__(self) -> None:
        self.adapter = FakeAdapter()
        self.opened: list[tuple[MemoryEngine, Delivery]] = []

    def enabled(self, settings: Settings) -> bool:
        return settings.port != 1  # any rule of its own on the settings

    def secrets(self, settings: Settings) -> Sequence[SecretStr | None]:
        return (SecretStr("fake-secret-value"), None)

    def check(self, settings: Settings) -> None:
        if settings.port == 2:
            raise ConfigurationError("FAKE_TOKEN does not fit port 2")

    def open(self, engine: MemoryEngine, settings: Settings, delivery: Delivery) -> FakeAdapter:
        self.opened.append((engine, delivery))
        return self.adapter


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_on(port: int, **values: object) -> Settings:
    return Settings(_env_file=None, model="openai:gpt-4o-mini", port=port, **values)  # type: ignore[call-arg]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePlatform:
    """A third platform, registered where every platform is: bot.platforms.PLATFORMS."""
    platform = FakePlatform()
    monkeypatch.setattr(bot.platforms, "PLATFORMS", [*PLATFORMS, platform])
    return platform


async def until_up(session: aiohttp.ClientSession, url: str) -> str:
    """The body at `url` once the server accepts connections (attempts, not a fixed sleep)."""
    async with asyncio.timeout(10):
        while True:
            try:
                async with session.get(url) as response:
                    return await response.text()
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.02)


@asynccontextmanager
async def serving(
    settings: Settings, engine: MemoryEngine, storage: Storage, platforms: Sequence[Platform]
) -> AsyncIterator[tuple[asyncio.Task[None], asyncio.Event]]:
    stopping = asyncio.Event()
    task = asyncio.create_task(serve(settings, engine, storage, platforms, stopping))
    try:
        yield task, stopping
    finally:
        stopping.set()
        for platform in platforms:
            adapter = getattr(platform, "adapter", None)
            if isinstance(adapter, FakeAdapter):
                adapter.release.set()
        await task


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_registered_platform_is_enabled_served_run_and_drained(
    fake: FakePlatform, engine: MemoryEngine, storage: Storage
) -> None:
    port = free_port()
    settings = settings_on(port)
    assert enabled_platforms(settings) == [fake]  # no Slack or Discord token is set
    assert enabled_platforms(settings_on(1)) == []
    assert "fake-secret-value" in _secrets(settings)  # kept out of every log line

    async with serving(settings, engine, storage, enabled_platforms(settings)) as (task, stop):
        async with aiohttp.ClientSession() as session:
            assert await until_up(session, f"http://127.0.0.1:{port}/fake/hello") == (
                "hello from fake"
            )
            await fake.adapter.running.wait()
            async with session.get(f"http://127.0.0.1:{port}/healthz") as health:
                assert health.status == 200
                assert await health.json() == {"status": "ok", "database": True, "fake": True}
            async with session.get(f"http://127.0.0.1:{port}/metrics") as metrics:
                assert "bot_messages_total" in await metrics.text()
        [(opened_on, _delivery)] = fake.opened
        assert opened_on is engine

        stop.set()
        await fake.adapter.draining.wait()
        # Drained while still running: what it posts last goes out through its open client.
        assert not fake.adapter.cancelled.is_set()
        fake.adapter.release.set()
        await task
        assert fake.adapter.cancelled.is_set()
    with pytest.raises(OSError):  # the one web app is closed after the drain
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_shutdown_waits_for_the_platform_to_drain(
    fake: FakePlatform, engine: MemoryEngine, storage: Storage
) -> None:
    port = free_port()
    settings = settings_on(port, shutdown_drain_seconds=600)
    async with (
        serving(settings, engine, storage, [fake]) as (task, stop),
        aiohttp.ClientSession() as session,
    ):
        await until_up(session, f"http://127.0.0.1:{port}/fake/hello")
        stop.set()
        await fake.adapter.draining.wait()
        # Still draining: the process has not finished, and its web app still answers
        # (a platform's last posts may need its routes, e.g. Slack's buttons).
        async with session.get(f"http://127.0.0.1:{port}/fake/hello") as still:
            assert still.status == 200
        # ...and its health says it is going away, so a load balancer stops sending to it.
        async with session.get(f"http://127.0.0.1:{port}/healthz") as health:
            assert health.status == 503
        assert not task.done()
        fake.adapter.release.set()
        await task


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_platform_that_never_drains_holds_shutdown_only_as_long_as_the_setting(
    fake: FakePlatform, engine: MemoryEngine, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_on(free_port(), shutdown_drain_seconds=0.05)
    stopping = asyncio.Event()
    stopping.set()
    with caplog.at_level(logging.WARNING, logger="bot.serve"):
        await serve(settings, engine, storage, [fake], stopping)
    assert fake.adapter.draining.is_set() and not fake.adapter.release.is_set()
    assert "fake was still posting after the drain timeout" in caplog.text


async def test_no_enabled_platform_names_every_registered_one(fake: FakePlatform) -> None:
    with pytest.raises(ConfigurationError) as refused:
        await run_platforms(settings_on(1))
    message = str(refused.value)
    assert "SLACK_BOT_TOKEN" in message and "DISCORD_TOKEN" in message and "FAKE_TOKEN" in message
    with pytest.raises(ConfigurationError, match="FAKE_TOKEN does not fit port 2"):
        await run_platforms(settings_on(2))


def unknown_to_the_core(platforms: Sequence[Platform]) -> list[str]:
    """Registered platforms whose name the core's verbs do not take (`/memory unlink <name>`,
    memory.commands.verbs.PlatformName)."""
    from memory.commands.verbs import PLATFORMS as CORE_PLATFORMS

    return [p.name for p in platforms if p.name not in CORE_PLATFORMS]


def test_every_registered_platform_is_one_the_core_names() -> None:
    # A third platform also adds its name to PlatformName: its people could link accounts but
    # never `/memory unlink` them otherwise ("Adding a platform" in the README).
    assert unknown_to_the_core(PLATFORMS) == []


def test_the_platform_name_check_sees_an_unknown_platform(fake: FakePlatform) -> None:
    assert unknown_to_the_core(bot.platforms.PLATFORMS) == ["fake"]
