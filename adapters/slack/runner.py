"""The Slack adapter as bot runs it: Socket Mode (an app token) or HTTP Events (a secret),
whose routes bot serves on its own web app beside /healthz and /metrics."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_bolt.async_app import AsyncApp

from adapters.slack.app import build_slack_app
from adapters.slack.edge import SlackEdge, ValidatingSocketModeHandler
from adapters.slack.notices import Notices
from adapters.slack.oauth import INSTALL_PATH, OAuthConfig
from memory import ConfigurationError, Delivery, InFlight, MemoryEngine

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackAdapter:
    """Slack on one engine: `routes` to serve (HTTP Events; none for Socket Mode), `run()`
    until cancelled, `drained()` once every listener it started has finished posting.

    One workspace with `bot_token`, or every workspace that installs the app with `oauth`
    (HTTP only: /slack/install and /slack/oauth_redirect beside /slack/events). Socket Mode
    when `app_token` (xapp-…) is given, else HTTP Events at /slack/events, which needs
    `signing_secret`. Raises ConfigurationError for a missing or malformed token or secret.
    """

    def __init__(
        self,
        engine: MemoryEngine,
        *,
        bot_token: str | None = None,
        oauth: OAuthConfig | None = None,
        app_token: str | None = None,
        signing_secret: str | None = None,
        api_url: str | None = None,
        react_when_learned: bool = True,
        notices: Notices = "message",
        delivery: Delivery | None = None,
    ) -> None:
        check_slack_options(bot_token, oauth, app_token, signing_secret)
        self.in_flight = InFlight()
        self.app = build_slack_app(
            engine,
            bot_token=bot_token,
            oauth=oauth,
            signing_secret=signing_secret,
            api_url=api_url,
            react_when_learned=react_when_learned,
            delivery=delivery,
            notices=notices,
            in_flight=self.in_flight,
        )
        self._app_token = app_token
        self.routes: list[web.RouteDef] = (
            [] if app_token else slack_routes(self.app, signing_secret or "")
        )

    async def run(self) -> None:
        """Serve until cancelled: hold the Socket Mode connection, or (HTTP Events) wait while
        bot's web app serves `routes`."""
        if self._app_token:
            handler = await connect_socket_mode(self.app, self._app_token)
            try:
                await asyncio.Event().wait()
            finally:
                await handler.close_async()  # type: ignore[no-untyped-call]
                log.info("Slack Socket Mode disconnected")
            return
        log.info("Slack HTTP Events served at %s", EVENTS_PATH)
        if self.app.oauth_flow is not None:
            log.info("Slack installs start at %s", INSTALL_PATH)
        await asyncio.Event().wait()

    async def drained(self) -> None:
        """Return once every event, command and button it took is answered and posted."""
        await self.in_flight.drained()


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


def slack_routes(app: AsyncApp, signing_secret: str) -> list[web.RouteDef]:
    """The HTTP Events routes: POST /slack/events through the edge (adapters/slack/edge.py)
    before bolt sees it, and with OAuth bolt's own install page and redirect (GET, no body)."""
    routes = [web.post(EVENTS_PATH, SlackEdge(app, signing_secret).handle)]
    if app.oauth_flow is not None:
        # The port is not used: bolt's server object is only asked to handle GET requests.
        bolt_server = AsyncSlackAppServer(port=0, path=EVENTS_PATH, app=app)
        routes.append(web.get(app.oauth_flow.install_path, bolt_server.handle_get_requests))
        routes.append(web.get(app.oauth_flow.redirect_uri_path, bolt_server.handle_get_requests))
    return routes
