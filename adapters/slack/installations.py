"""Slack installations (one per workspace that installed the app) kept in the bot's store.

An `AsyncInstallationStore` for slack-bolt over the same LangGraph store as memory, so
installations live in the same database (PostgreSQL or SQLite) with no second driver or pool,
are shared by every process, and their tokens are sealed with MEMORY_ENCRYPTION_KEY when one is
set. slack_sdk's own stores don't fit: its SQLAlchemy store needs SQLAlchemy and a pool of its
own, its sqlite3 store is synchronous and SQLite only, and neither encrypts tokens.

Rows mirror slack_sdk's FileInstallationStore: per workspace, the latest bot ("bot"), the latest
installation ("installer") and each installing user's ("installer-<user id>").
"""

from __future__ import annotations

import logging
from typing import Any

from langgraph.store.base import BaseStore
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from memory import KeyRing, PlainSealer, Sealer

log = logging.getLogger(__name__)

NAMESPACE = ("adapters", "slack", "installations")
NONE = "none"


def workspace_namespace(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
) -> tuple[str, ...]:
    """One namespace per workspace (or per Enterprise Grid org, for an org-wide install):
    `(*NAMESPACE, "<enterprise>-<team>")`, "none" for an id there is none of, as slack_sdk's
    FileInstallationStore names its directories (`E1-T1`, `none-T1`, `E1-none`)."""
    team = NONE if is_enterprise_install else (team_id or NONE)
    return (*NAMESPACE, f"{enterprise_id or NONE}-{team}")


class StoreInstallationStore(AsyncInstallationStore):  # type: ignore[misc]
    """slack-bolt's installation store over a LangGraph BaseStore; values pass the sealer.

    Implements slack_sdk's AsyncInstallationStore interface (its docstring lists the methods
    bolt calls; https://tools.slack.dev/python-slack-sdk/oauth/#installation-store). Each
    value is the `__dict__` of a slack_sdk Installation or Bot, tokens included, so rows are
    unreadable without MEMORY_ENCRYPTION_KEY when a sealer is given. Store errors propagate.
    """

    def __init__(self, store: BaseStore, sealer: Sealer | None = None) -> None:
        self._store = store
        self._sealer: Sealer = sealer or PlainSealer()

    @property
    def logger(self) -> logging.Logger:
        """The logger slack_sdk's interface asks every store for: this module's."""
        return log

    async def _put(self, namespace: tuple[str, ...], key: str, value: dict[str, Any]) -> None:
        if isinstance(self._sealer, KeyRing):
            # Refused on settings rotate-key replaced: sealed with the replaced key, the
            # workspace's tokens would open for no current process.
            await self._sealer.check_may_wrap()
        await self._store.aput(namespace, key, self._sealer.seal(value), index=False)

    async def _get(self, namespace: tuple[str, ...], key: str) -> dict[str, Any] | None:
        item = await self._store.aget(namespace, key)
        return self._sealer.open(item.value) if item is not None else None

    async def async_save(self, installation: Installation) -> None:
        """Keep an installation (bolt calls this on /slack/oauth_redirect and after refreshing
        a rotating user token): as the workspace's latest ("installer"), as the installing
        user's, and its bot as the workspace's bot when it has a bot token."""
        namespace = workspace_namespace(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        value = dict(installation.__dict__)
        await self._put(namespace, "installer", value)
        if installation.user_id:
            await self._put(namespace, f"installer-{installation.user_id}", value)
        if installation.bot_token:
            await self.async_save_bot(installation.to_bot())
        log.info(
            "Slack app installed",
            extra={"team_id": installation.team_id, "enterprise_id": installation.enterprise_id},
        )

    async def async_save_bot(self, bot: Bot) -> None:
        """Keep `bot` as its workspace's (or org's) bot, replacing the one before; bolt also
        calls this after refreshing a rotating token."""
        namespace = workspace_namespace(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        await self._put(namespace, "bot", dict(bot.__dict__))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """The workspace's (or, for an org-wide install, the org's) bot with its token;
        None when the app is not installed there."""
        namespace = workspace_namespace(enterprise_id, team_id, is_enterprise_install)
        value = await self._get(namespace, "bot")
        return Bot(**value) if value else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """`user_id`'s installation, or without one the workspace's latest; None when there
        is none. Its bot fields are the workspace's current bot's, which a user's older
        installation may predate (token rotation)."""
        namespace = workspace_namespace(enterprise_id, team_id, is_enterprise_install)
        value = await self._get(namespace, f"installer-{user_id}" if user_id else "installer")
        if not value:
            return None
        installation = Installation(**value)
        # A user's installation may predate the bot's latest (rotated) token: use the latest.
        bot = await self.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if bot is not None and bot.bot_token != installation.bot_token:
            installation.bot_id = bot.bot_id
            installation.bot_user_id = bot.bot_user_id
            installation.bot_token = bot.bot_token
            installation.bot_scopes = bot.bot_scopes
            installation.bot_refresh_token = bot.bot_refresh_token
            installation.bot_token_expires_at = bot.bot_token_expires_at
        return installation

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget the workspace's bot (bolt's tokens_revoked listener calls this when the bot
        token is revoked). An org-wide install is found with `team_id=None`."""
        await self._store.adelete(workspace_namespace(enterprise_id, team_id), "bot")

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Forget `user_id`'s installation (bolt's tokens_revoked listener, per revoked user
        token), or without a user the workspace's latest one only: unlike slack_sdk's
        FileInstallationStore, other users' rows stay (async_delete_all removes them all)."""
        key = f"installer-{user_id}" if user_id else "installer"
        await self._store.adelete(workspace_namespace(enterprise_id, team_id), key)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Everything about one workspace (its bot, every installation): on app_uninstalled."""
        namespace = workspace_namespace(enterprise_id, team_id)
        while found := await self._store.asearch(namespace, limit=100):
            for item in found:
                await self._store.adelete(namespace, item.key)
        log.info(
            "Slack app uninstalled", extra={"team_id": team_id, "enterprise_id": enterprise_id}
        )
