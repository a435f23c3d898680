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
# Slack's own default: an install started more than 10 minutes ago is not completed.
EXPIRES_SECONDS = 600
# States looked at for expiry per issue: bounded work per /slack/install visit.
SWEEP = 50


class StoreOAuthStateStore(AsyncOAuthStateStore):  # type: ignore[misc]
    """Each state is valid once, for `expiration_seconds`."""

    def __init__(self, store: BaseStore, expiration_seconds: int = EXPIRES_SECONDS) -> None:
        self._store = store
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: object, **kwargs: object) -> str:
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
        if not state or len(state) > 200:
            return False
        item = await self._store.aget(NAMESPACE, state)
        if item is None:
            return False
        await self._store.adelete(NAMESPACE, state)
        return float(item.value.get("expires_at", 0)) > time.time()
