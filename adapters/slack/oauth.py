"""Slack apps installed in many workspaces: the OAuth install flow, token rotation and
uninstalls, with slack-bolt's AsyncOAuthSettings over installations kept in the bot's store.

Installing: /slack/install (a page with "Add to Slack") -> Slack -> /slack/oauth_redirect, where
bolt trades the code for the workspace's bot token (oauth.v2.access) and saves it. Each event
is then answered with the token of the workspace it came from. Rotating tokens (a refresh token
and an expiry) are refreshed by bolt before they expire. `app_uninstalled` removes the
workspace's installation and, with `erase_on_uninstall`, every memory of its people;
`tokens_revoked` removes the revoked tokens.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.ids import PLATFORM, workspace_of
from adapters.slack.installations import StoreInstallationStore
from adapters.slack.oauth_state import StoreOAuthStateStore
from memory import IdentityError, MemoryCommand, MemoryEngine, UserRef, users_under

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes of slack-app-manifest.yml (a test keeps the two equal).
BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "im:history",
    "im:read",
    "im:write",
    "chat:write",
    "reactions:write",
    "users:read",
    "files:write",
    "commands",
)


@dataclass(frozen=True)
class OAuthConfig:
    """SLACK_CLIENT_ID / SLACK_CLIENT_SECRET (Basic Information -> App Credentials).

    `erase_on_uninstall` is SLACK_ON_UNINSTALL=erase; `redirect_uri` (SLACK_REDIRECT_URI)
    is the full URL of /slack/oauth_redirect, or None for the one set in the app's config.
    """

    client_id: str
    client_secret: str
    erase_on_uninstall: bool = False
    redirect_uri: str | None = None


class SlackOAuth:
    """The OAuth pieces of one app: installations and states in the engine's store."""

    def __init__(self, engine: MemoryEngine, config: OAuthConfig) -> None:
        self.engine = engine
        self.config = config
        self.installations = StoreInstallationStore(engine.store, engine.sealer)

    def app_options(self, client: AsyncWebClient) -> dict[str, Any]:
        """AsyncApp keyword arguments for the OAuth flow.

        Our own authorize, because bolt's default one refreshes rotating tokens through a
        client of its own, which ignores `client`'s base URL (SLACK_API_URL).
        """
        config = self.config
        settings = AsyncOAuthSettings(
            client_id=config.client_id,
            client_secret=config.client_secret,
            scopes=list(BOT_SCOPES),
            redirect_uri=config.redirect_uri,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=self.installations,
            state_store=StoreOAuthStateStore(self.engine.store),
        )
        authorize = AsyncInstallationStoreAuthorize(
            logger=log,
            installation_store=self.installations,
            client_id=config.client_id,
            client_secret=config.client_secret,
            client=client,
        )
        return {"oauth_settings": settings, "authorize": authorize}

    def add_listeners(self, app: AsyncApp) -> None:
        """app_uninstalled: drop the workspace's installation (and its memories, if so
        configured); tokens_revoked: drop the revoked tokens (bolt's own listener)."""
        app.event("app_uninstalled")(self.on_uninstalled)
        app.event("tokens_revoked")(app.default_tokens_revoked_event_listener())

    async def on_uninstalled(self, context: Any) -> None:
        """bolt listener for `app_uninstalled` (https://api.slack.com/events/app_uninstalled):
        drop the workspace's installation rows and, with `erase_on_uninstall`, the memories
        of its people (`erase_workspace`). `context` is bolt's AsyncBoltContext; its team
        and enterprise ids name the workspace."""
        await self.installations.async_delete_all(
            enterprise_id=context.enterprise_id, team_id=context.team_id
        )
        if self.config.erase_on_uninstall:
            erased = await erase_workspace(self.engine, context.team_id, context.enterprise_id)
            log.info("erased the memories of %d people of an uninstalled workspace", erased)

    async def client_for(
        self, conversation: str, user_key: str, client: AsyncWebClient
    ) -> AsyncWebClient | None:
        """A client with the bot token of the workspace a conversation is in
        (`slack:T1:C1:...`), or None when that workspace has no installation (any more).
        The org comes from a Grid person's key (`slack:E1:W1`) when it names one.
        Raises IdentityError when `conversation` has fewer than three `:`-separated parts."""
        try:
            _platform, team_id, _rest = conversation.split(":", 2)
        except ValueError:
            raise IdentityError(f"not a Slack conversation: {conversation!r}") from None
        owner = user_key.split(":")
        enterprise_id = None
        if len(owner) == 3 and owner[0] == PLATFORM and owner[1] != team_id:
            enterprise_id = owner[1]
        bot = await self.installations.async_find_bot(
            enterprise_id=enterprise_id or None, team_id=team_id
        )
        if bot is None:
            return None
        return AsyncWebClient(
            token=bot.bot_token, base_url=client.base_url, retry_handlers=client.retry_handlers
        )


async def erase_workspace(
    engine: MemoryEngine, team_id: str | None, enterprise_id: str | None = None
) -> int:
    """`/memory forget all` for every person of the workspace (or of the whole org, for an
    org-wide install); returns how many people. Raises IdentityError without any id.
    A single workspace of an Enterprise Grid org erases nobody (see above)."""
    if enterprise_id and team_id:
        # Grid people are the org's, not one workspace's: their memory follows them to the
        # org's other workspaces, so leaving one workspace erases nobody.
        log.info("a Grid workspace left; its people's memories belong to the org and stay")
        return 0
    prefix = f"{PLATFORM}:{workspace_of(team_id, enterprise_id)}:"
    erased = 0
    for user_key in await users_under(engine.store, prefix):
        platform, workspace, user_id = user_key.split(":", 2)
        user = UserRef(platform, user_id, workspace=workspace)
        await engine.run_command(user, MemoryCommand(action="forget_all", confirmed=True))
        erased += 1
    return erased
