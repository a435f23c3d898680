"""Running the Slack app until cancelled: Socket Mode (an app token) or HTTP Events (a secret)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_bolt.async_app import AsyncApp

from adapters.http_log import PathOnlyAccessLogger
from adapters.slack.app import build_slack_app
from adapters.slack.edge import SlackEdge, ValidatingSocketModeHandler
from adapters.slack.notices import Notices
from adapters.slack.oauth import INSTALL_PATH, OAuthConfig
from memory.delivery import Delivery
from memory.engine import MemoryEngine
from memory.errors import ConfigurationError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


async def run_slack(
    engine: MemoryEngine,
    *,
    bot_token: str | None = None,
    oauth: OAuthConfig | None = None,
    app_token: str | None = None,
    signing_secret: str | None = None,
    api_url: str | None = None,
    host: str = "0.0.0.0",
    port: int = 3000,
    react_when_learned: bool = True,
    notices: Notices = "message",
    configure_web: Callable[[web.Application], None] | None = None,
    delivery: Delivery | None = None,
) -> None:
    """Serve Slack until cancelled, then disconnect cleanly.

    One workspace with `bot_token`, or every workspace that installs the app with `oauth`
    (HTTP only: /slack/install and /slack/oauth_redirect beside /slack/events).
    Socket Mode when `app_token` (xapp-…) is given, else HTTP Events on host:port at
    /slack/events, which needs `signing_secret`. `configure_web` may add routes (e.g. a
    health check) to the HTTP server. Raises ConfigurationError for a missing or malformed
    token or secret.
    """
    check_slack_options(bot_token, oauth, app_token, signing_secret)
    app = build_slack_app(
        engine,
        bot_token=bot_token,
        oauth=oauth,
        signing_secret=signing_secret,
        api_url=api_url,
        react_when_learned=react_when_learned,
        delivery=delivery,
        notices=notices,
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


def check_slack_options(
    bot_token: str | None,
    oauth: OAuthConfig | None,
    app_token: str | None,
    signing_secret: str | None,
) -> None:
    """Raises ConfigurationError unless the options make one working Slack setup."""
    if oauth is not None:
        if bot_token:
            raise ConfigurationError(
                "Set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
                "(installs into many workspaces), not both."
            )
        if app_token or not signing_secret:
            raise ConfigurationError(
                "Installs into many workspaces (SLACK_CLIENT_ID) use HTTP Events: set "
                "SLACK_SIGNING_SECRET and unset SLACK_APP_TOKEN."
            )
        return
    if not bot_token or not bot_token.startswith("xoxb-"):
        raise ConfigurationError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-.")
    if not app_token and not signing_secret:
        raise ConfigurationError(
            "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP Events)."
        )


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
    if app.oauth_flow is not None:
        # bolt's own handlers for the install page and the OAuth redirect (GET, no body).
        bolt_server = AsyncSlackAppServer(port=port, path=EVENTS_PATH, app=app)
        web_app.router.add_get(app.oauth_flow.install_path, bolt_server.handle_get_requests)
        web_app.router.add_get(app.oauth_flow.redirect_uri_path, bolt_server.handle_get_requests)
    if configure_web is not None:
        configure_web(web_app)
    runner = web.AppRunner(web_app, access_log_class=PathOnlyAccessLogger)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound = runner.addresses[0][1] if runner.addresses else port
    log.info("Slack HTTP Events listening on %s:%s%s", host, bound, EVENTS_PATH)
    if app.oauth_flow is not None:
        log.info("Slack installs start at %s", INSTALL_PATH)
    return runner
