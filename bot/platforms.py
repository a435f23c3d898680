"""Running the platform adapters whose tokens are set, on one engine, until SIGTERM.

Shutdown order: stop taking new events, finish the replies in flight (within
SHUTDOWN_DRAIN_SECONDS; the rest stay in the inbox for the next start), learn what is pending,
then close storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import SecretStr

from adapters.discord.runner import run_discord
from adapters.http_log import PathOnlyAccessLogger
from adapters.slack.oauth import OAuthConfig
from adapters.slack.runner import run_slack
from bot.engine import open_engine
from bot.errors import AdapterFailed
from bot.settings import Settings
from bot.storage import Storage
from bot.web import Probe, add_ops_routes
from memory.delivery import Delivery
from memory.engine import MemoryEngine
from memory.errors import ConfigurationError

log = logging.getLogger(__name__)

# After the last reply is made, a moment for the adapter to post it.
POST_GRACE_SECONDS = 1.0


async def run_platforms(settings: Settings) -> None:
    if not (settings.slack_enabled or settings.discord_enabled):
        raise ConfigurationError(
            "No platform token is set: set SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET) and/or DISCORD_TOKEN, "
            "or use `bot chat` for a terminal chat."
        )
    settings.check_slack()
    async with open_engine(settings) as (engine, storage):
        await _serve(settings, engine, storage)


async def _serve(settings: Settings, engine: MemoryEngine, storage: Storage) -> None:
    tasks: dict[str, asyncio.Task[None]] = {}
    probes: dict[str, Probe] = {}
    slack_http = settings.slack_enabled and settings.slack_app_token is None
    delivery = Delivery(storage.inbox, settings.delivery_config())

    def configure_web(app: web.Application) -> None:
        add_ops_routes(app, engine, storage, probes, delivery)

    if settings.slack_enabled:
        tasks["slack"] = _start(
            run_slack(
                engine,
                bot_token=_secret(settings.slack_bot_token),
                oauth=_slack_oauth(settings),
                app_token=_secret(settings.slack_app_token),
                signing_secret=_secret(settings.slack_signing_secret),
                api_url=settings.slack_api_url,
                port=settings.port,
                react_when_learned=settings.react_when_learned,
                notices=settings.memory_notices,
                configure_web=configure_web,
                delivery=delivery,
            )
        )
    if settings.discord_enabled:
        assert settings.discord_token is not None
        tasks["discord"] = _start(
            run_discord(
                engine,
                token=settings.discord_token.get_secret_value(),
                api_url=settings.discord_api_url,
                guild_id=settings.discord_guild_id,
                shard_count=settings.discord_shard_count,
                shard_ids=settings.discord_shard_ids,
                react_when_learned=settings.react_when_learned,
                delivery=delivery,
                catch_up_seconds=settings.discord_catch_up_seconds,
                notices=settings.memory_notices,
            )
        )
    for name, task in tasks.items():
        probes[name] = lambda task=task: not task.done()  # type: ignore[misc]
    ops_runner = None if slack_http else await _serve_ops(settings.port, configure_web)
    await delivery.start()

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stopping.set)
    stop = asyncio.ensure_future(stopping.wait())
    await asyncio.wait({stop, *tasks.values()}, return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    log.info("shutting down: no new messages; finishing %d in flight", engine.in_flight)
    for task in tasks.values():
        task.cancel()
    results = await asyncio.gather(*tasks.values(), return_exceptions=True)
    given_back = await delivery.stop()
    if given_back:
        log.warning("shutdown: %d unanswered message(s) left for the next start", given_back)
    if not await engine.drain(settings.shutdown_drain_seconds):
        log.warning("shutdown: replies still running after the drain timeout")
    await asyncio.sleep(POST_GRACE_SECONDS)
    if ops_runner is not None:
        await ops_runner.cleanup()
    failed: list[str] = []
    for name, result in zip(tasks, results, strict=True):
        if isinstance(result, ConfigurationError):
            raise result
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            # One line for the operator; the traceback only at DEBUG (it is the library's).
            log.error("%s adapter stopped: %s: %s", name, type(result).__name__, str(result)[:200])
            log.debug("%s adapter traceback", name, exc_info=result)
            failed.append(f"{name} ({type(result).__name__}: {str(result)[:200]})")
    if failed and not stopping.is_set():
        # A process manager restarts a process that exits non-zero, not one that exits 0.
        raise AdapterFailed(f"could not keep running: {', '.join(failed)}")


def _slack_oauth(settings: Settings) -> OAuthConfig | None:
    if not settings.slack_oauth_enabled:
        return None
    return OAuthConfig(
        client_id=settings.slack_client_id or "",
        client_secret=_secret(settings.slack_client_secret) or "",
        erase_on_uninstall=settings.slack_on_uninstall == "erase",
        redirect_uri=settings.slack_redirect_uri,
    )


def _start(work: Awaitable[None]) -> asyncio.Task[None]:
    return asyncio.ensure_future(work)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


async def _serve_ops(port: int, configure: Callable[[web.Application], None]) -> web.AppRunner:
    app = web.Application()
    configure(app)
    runner = web.AppRunner(app, access_log_class=PathOnlyAccessLogger)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    return runner
