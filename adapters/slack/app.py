"""Wiring: a slack-bolt AsyncApp whose listeners hand Slack payloads to the memory engine."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import controls
from adapters.slack.bolt_logs import bolt_base_logger
from adapters.slack.chat import LATE_SECONDS, SlackChat
from adapters.slack.directory import UserDirectory
from adapters.slack.ids import PLATFORM
from adapters.slack.intake import record_before_ack
from adapters.slack.memory_ui import MemoryUI
from adapters.slack.notices import Notices, post_notice
from adapters.slack.oauth import OAuthConfig, SlackOAuth
from memory import Delivery, InboxEntry, InFlight, Learned, MemoryChanged, MemoryEngine

log = logging.getLogger(__name__)

COMMAND = "/memory"


def build_slack_app(
    engine: MemoryEngine,
    *,
    bot_token: str | None = None,
    oauth: OAuthConfig | None = None,
    signing_secret: str | None = None,
    api_url: str | None = None,
    react_when_learned: bool = True,
    history_limit: int = 20,
    delivery: Delivery | None = None,
    notices: Notices = "message",
    in_flight: InFlight | None = None,
) -> AsyncApp:
    """The bot's Slack app. Serve it over HTTP (needs `signing_secret`) or Socket Mode.

    One workspace with `bot_token`; many with `oauth` (installations and their tokens in the
    engine's store, see adapters.slack.oauth). `api_url` points the Web API client at a
    Slack-compatible server (tests, proxies). `delivery` records events before they are
    acknowledged and redelivers unfinished ones (an in-process one when not given: no
    durability across restarts). `notices`: what a person sees when learning changed their
    memory: an ephemeral notice with Undo and the reaction ("message"), only the reaction on
    their message ("reaction"), or nothing ("off").
    """
    delivery = delivery or Delivery()
    # Every listener counts as in flight until it returns (its answer posted).
    track = (in_flight or InFlight()).track
    client_args: dict[str, Any] = {}
    if api_url:
        client_args["base_url"] = api_url if api_url.endswith("/") else api_url + "/"
    client = AsyncWebClient(
        token=bot_token,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
        **client_args,
    )
    installs = SlackOAuth(engine, oauth) if oauth is not None else None
    app = AsyncApp(
        client=client,
        # Without a secret (Socket Mode) an unguessable one makes any HTTP request fail
        # verification, rather than bolt reading SLACK_SIGNING_SECRET or accepting "".
        signing_secret=signing_secret or secrets.token_hex(32),
        # Unmatched events (a plain channel message, a message edit) are not errors.
        raise_error_for_unhandled_request=False,
        **(installs.app_options(client) if installs is not None else {}),
        logger=bolt_base_logger(),
    )
    directory = UserDirectory()
    chat = SlackChat(engine, directory, delivery, history_limit=history_limit)
    ui = MemoryUI(engine, directory)

    app.middleware(record_before_ack(delivery))

    app.event("app_mention")(track(chat.on_mention))
    app.event("message")(track(chat.on_message))
    app.event("app_home_opened")(track(ui.on_home_opened))
    app.command(COMMAND)(track(ui.on_command))
    app.action(controls.ACTION_IDS)(track(ui.on_action))
    if installs is not None:
        installs.add_listeners(app)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        # Slack's Web API out of reach (bolt authorizes every request with auth.test): one
        # line; Slack sends the event again after the error answer, so nothing is lost.
        unreachable = isinstance(error, aiohttp.ClientError | TimeoutError)
        log.error(
            "Slack listener failed: %s",
            type(error).__name__,
            exc_info=None if unreachable else error,
            extra={"slack_type": body.get("type"), "event_id": body.get("event_id")},
        )

    async def redeliver(entry: InboxEntry) -> None:
        """An unfinished event goes through the app again, marked late. Socket Mode is how
        bolt names a request that arrived already authenticated (here, by our database)."""
        if entry.payload is not None:
            request = AsyncBoltRequest(
                body=entry.payload, mode="socket_mode", context={LATE_SECONDS: entry.age()}
            )
            await app.async_dispatch(request)

    delivery.watch("slack:", track(redeliver))

    async def client_for(conversation: str, user_key: str) -> AsyncWebClient | None:
        if installs is None:
            return client
        # The token of the workspace the message came from.
        return await installs.client_for(conversation, user_key, client)

    if react_when_learned and notices != "off":

        async def react(learned: Learned) -> None:
            if learned.platform != PLATFORM:
                return
            target = await client_for(learned.conversation, learned.user_key)
            if target is not None:
                await chat.on_learned(learned, target)

        engine.on_learned(track(react))
    if notices == "message":

        async def notify(changed: MemoryChanged) -> None:
            if changed.platform != PLATFORM:
                return
            target = await client_for(changed.conversation, changed.user_key)
            if target is not None:
                await post_notice(target, changed)

        engine.on_changed(track(notify))
    return app
