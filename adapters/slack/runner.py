"""Running the Slack app until cancelled: Socket Mode (an app token) or HTTP Events (a secret)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web
from slack_bolt.async_app import AsyncApp

from adapters.slack.app import build_slack_app
from adapters.slack.edge import SlackEdge, ValidatingSocketModeHandler
from memory.delivery import Delivery
from memory.engine import MemoryEngine
from memory.errors import ConfigurationError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


async def run_slack(
    engine: MemoryEngine,
    *,
    bot_token: str,
    app_token: str | None = None,
    signing_secret: str | None = None,
    api_url: str | None = None,
    host: str = "0.0.0.0",
    port: int = 3000,
    react_when_learned: bool = True,
    configure_web: Callable[[web.Application], None] | None = None,
    delivery: Delivery | None = None,
) -> None:
    """Serve Slack until cancelled, then disconnect cleanly.

    Socket Mode when `app_token` (xapp-…) is given, else HTTP Events on host:port at
    /slack/events, which needs `signing_secret`. `configure_web` may add routes (e.g. a
    health check) to the HTTP server.
    """
    if not bot_token.startswith("xoxb-"):
        raise ConfigurationError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-.")
    if not app_token and not signing_secret:
        raise ConfigurationError(
            "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP Events)."
        )
    app = build_slack_app(
        engine,
        bot_token=bot_token,
        signing_secret=signing_secret,
        api_url=api_url,
        react_when_learned=react_when_learned,
        delivery=delivery,
    )
    if app_token:
        handler = await connect_socket_mode(app, app_token)
        try:
            await asyncio.Event().wait()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]
            log.info("Slack Socket Mode disconnected")
    else:
        assert signing_secret is not None
        runner = await serve_http(app, signing_secret, host, port, configure_web)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
            log.info("Slack HTTP server stopped")


async def connect_socket_mode(app: AsyncApp, app_token: str) -> ValidatingSocketModeHandler:
    """Open the Socket Mode connection (apps.connections.open through the app's client)."""
    if not app_token.startswith("xapp-"):
        raise ConfigurationError("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")
    handler = ValidatingSocketModeHandler(app, app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    log.info("Slack connected over Socket Mode")
    return handler


async def serve_http(
    app: AsyncApp,
    signing_secret: str,
    host: str,
    port: int,
    configure_web: Callable[[web.Application], None] | None = None,
) -> web.AppRunner:
    """Start the HTTP Events server; the caller cleans up the returned runner. Requests go
    through the edge (adapters/slack/edge.py) before bolt sees them."""
    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, SlackEdge(app, signing_secret).handle)
    if configure_web is not None:
        configure_web(web_app)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound = runner.addresses[0][1] if runner.addresses else port
    log.info("Slack HTTP Events listening on %s:%s%s", host, bound, EVENTS_PATH)
    return runner
