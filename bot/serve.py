"""Running the enabled platforms (bot.platforms.PLATFORMS) on one engine until SIGTERM, with
one web app on PORT: /healthz, /metrics and the routes each platform's adapter needs.

Shutdown order: stop taking new events, finish the replies in flight (within
SHUTDOWN_DRAIN_SECONDS; the rest stay in the inbox for the next start), wait until each
adapter has posted what it was still posting (bounded the same way), learn what is pending,
then close storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterable, Sequence

from aiohttp import web

from adapters.http_log import PathOnlyAccessLogger
from bot.engine import open_engine
from bot.errors import AdapterFailed
from bot.platforms import Adapter, Platform, enabled_platforms, setting_hints
from bot.settings import Settings
from bot.storage import Storage
from bot.web import Probe, add_ops_routes
from memory import ConfigurationError, Delivery, MemoryEngine

log = logging.getLogger(__name__)


async def run_platforms(settings: Settings) -> None:
    """Run every enabled platform on one engine until SIGTERM or SIGINT. Raises
    ConfigurationError when none is enabled or a setting is wrong, AdapterFailed when an
    adapter stopped by itself."""
    platforms = enabled_platforms(settings)
    if not platforms:
        raise ConfigurationError(
            f"No platform token is set: set {setting_hints()}, "
            "or use `bot chat` for a terminal chat."
        )
    for platform in platforms:
        platform.check(settings)
    async with open_engine(settings) as (engine, storage):
        await serve(settings, engine, storage, platforms)


async def serve(
    settings: Settings,
    engine: MemoryEngine,
    storage: Storage,
    platforms: Sequence[Platform],
    stopping: asyncio.Event | None = None,
) -> None:
    """Open `platforms` on `engine`, serve their routes with /healthz and /metrics on PORT,
    and run them until `stopping` is set (SIGTERM or SIGINT sets it) or one stops by itself."""
    stopping = stopping or asyncio.Event()
    delivery = Delivery(storage.inbox, settings.delivery_config())
    adapters = {p.name: p.open(engine, settings, delivery) for p in platforms}
    probes: dict[str, Probe] = {}
    app = web.Application()
    add_ops_routes(app, engine, storage, probes, delivery)
    for adapter in adapters.values():
        app.router.add_routes(adapter.routes)
    runner = web.AppRunner(app, access_log_class=PathOnlyAccessLogger)
    await runner.setup()
    try:
        await web.TCPSite(runner, "0.0.0.0", settings.port).start()
        tasks = {name: asyncio.ensure_future(a.run()) for name, a in adapters.items()}
        for name, task in tasks.items():
            # Unhealthy once going away, so a load balancer stops sending here during the drain.
            probes[name] = lambda task=task: not task.done() and not stopping.is_set()  # type: ignore[misc]
        await delivery.start()
        await _until_stopped(stopping, tasks.values())
        log.info("shutting down: no new messages; finishing %d in flight", engine.in_flight)
        # Drain while the platforms' clients are still open: a reply finishing now is posted
        # through them (a Discord client closed first made every such post fail).
        given_back = await delivery.stop()
        if given_back:
            log.warning("shutdown: %d unanswered message(s) left for the next start", given_back)
        if not await engine.drain(settings.shutdown_drain_seconds):
            log.warning("shutdown: replies still running after the drain timeout")
        await _drained(adapters, settings.shutdown_drain_seconds)
        for task in tasks.values():
            task.cancel()
        results = await asyncio.gather(*tasks.values(), return_exceptions=True)
    finally:
        _signals_off()
        await runner.cleanup()
    _raise_failures(dict(zip(tasks, results, strict=True)), stopped=stopping.is_set())


async def _until_stopped(stopping: asyncio.Event, tasks: Iterable[asyncio.Task[None]]) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stopping.set)
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({stop, *tasks}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()


def _signals_off() -> None:
    """Back to the default signal handling (a second SIGTERM during the drain still only
    set the event until here)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signum)


async def _drained(adapters: dict[str, Adapter], within_seconds: float) -> None:
    """Wait for each adapter to finish posting, for at most `within_seconds` in all."""
    waits = {name: asyncio.ensure_future(a.drained()) for name, a in adapters.items()}
    if not waits:
        return
    _, pending = await asyncio.wait(waits.values(), timeout=within_seconds)
    for name, wait in waits.items():
        if wait in pending:
            wait.cancel()
            log.warning("shutdown: %s was still posting after the drain timeout", name)


def _raise_failures(results: dict[str, BaseException | None], *, stopped: bool) -> None:
    failed: list[str] = []
    for name, result in results.items():
        if isinstance(result, ConfigurationError):
            raise result
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            # One line for the operator; the traceback only at DEBUG (it is the library's).
            log.error("%s adapter stopped: %s: %s", name, type(result).__name__, str(result)[:200])
            log.debug("%s adapter traceback", name, exc_info=result)
            failed.append(f"{name} ({type(result).__name__}: {str(result)[:200]})")
    if failed and not stopped:
        # A process manager restarts a process that exits non-zero, not one that exits 0.
        raise AdapterFailed(f"could not keep running: {', '.join(failed)}")
