"""People's display names from users.info, cached so a busy thread costs one lookup per person."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.normalize import display_name

log = logging.getLogger(__name__)


class UserDirectory:
    """user id -> name. Misses are cached too (the id stands in) so a failure is not retried hot."""

    def __init__(
        self,
        *,
        ttl_seconds: float = 3600.0,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Names are kept `ttl_seconds` (by `clock`, in seconds), at most `capacity` of them,
        the least recently used dropped first."""
        # user id -> name, or None for a lookup that failed.
        self._names: TTLCache[str, str | None] = TTLCache(
            maxsize=capacity, ttl=ttl_seconds, timer=clock
        )

    async def names(self, client: AsyncWebClient, user_ids: Iterable[str]) -> dict[str, str]:
        """The known names of these users (an unknown user is simply absent)."""
        found: dict[str, str] = {}
        for user_id in dict.fromkeys(u for u in user_ids if u):
            name = await self.name(client, user_id)
            if name:
                found[user_id] = name
        return found

    async def name(self, client: AsyncWebClient, user_id: str) -> str | None:
        """The user's display name from users.info, cached (a failed lookup is cached too, as None,
        and logged with Slack's error code)."""
        if user_id in self._names:  # unexpired (a cached miss is None)
            return self._names[user_id]
        name: str | None = None
        try:
            response = await client.users_info(user=user_id)
            user = response.get("user")
            if isinstance(user, dict):
                name = display_name(user)
        except SlackApiError as exc:
            log.warning(
                "users.info failed: %s",
                exc.response.get("error"),
                extra={"slack_user": user_id},
            )
        self._names[user_id] = name
        return name
