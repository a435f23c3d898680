"""OAuth `state` values for Slack installs, kept in the bot's store (shared by every process).

slack-bolt issues one when /slack/install is opened and consumes it on /slack/oauth_redirect,
which guards the install against cross-site request forgery (with bolt's browser cookie).
"""

from __future__ import annotations

import logging
import secrets
import time

from langgraph.store.base import BaseStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

log = logging.getLogger(__name__)

NAMESPACE = ("adapters", "slack", "oauth_state")
# slack-bolt's own default (AsyncOAuthSettings.state_expiration_seconds, 600): an install
# started more than 10 minutes ago is not completed.
EXPIRES_SECONDS = 600
# States looked at for expiry per issue: bounded work per /slack/install visit.
SWEEP = 50


class StoreOAuthStateStore(AsyncOAuthStateStore):  # type: ignore[misc]
    """slack_sdk's AsyncOAuthStateStore over a LangGraph BaseStore: each state is valid
    once, for `expiration_seconds` (seconds). Store errors propagate."""

    def __init__(self, store: BaseStore, expiration_seconds: int = EXPIRES_SECONDS) -> None:
        self._store = store
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        """The logger slack_sdk's interface asks every store for: this module's."""
        return log

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        """A new state (32 URL-safe characters, 192 random bits), stored with its expiry;
        first drops expired states among up to SWEEP (50) stored ones. Arguments from bolt
        are ignored."""
        now = time.time()
        # Installs that were opened and never completed leave states behind: drop old ones.
        for item in await self._store.asearch(NAMESPACE, limit=SWEEP):
            if float(item.value.get("expires_at", 0)) <= now:
                await self._store.adelete(NAMESPACE, item.key)
        state = secrets.token_urlsafe(24)
        value = {"expires_at": now + self.expiration_seconds}
        await self._store.aput(NAMESPACE, state, value, index=False)
        return state

    async def async_consume(self, state: str) -> bool:
        """True if `state` was issued here and has not expired; it is deleted either way, so
        a second use is False. An empty state or one over 200 characters is False unread."""
        if not state or len(state) > 200:
            return False
        item = await self._store.aget(NAMESPACE, state)
        if item is None:
            return False
        await self._store.adelete(NAMESPACE, state)
        return float(item.value.get("expires_at", 0)) > time.time()
