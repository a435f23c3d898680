"""People's display names from users.info, cached so a busy thread costs one lookup per person."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.normalize import display_name

log = logging.getLogger(__name__)


class UserDirectory:
    """user id -> name. Misses are cached too (the id stands in) so a failure is not retried hot."""

    def __init__(self, *, ttl_seconds: float = 3600.0, capacity: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._capacity = capacity
        self._names: OrderedDict[str, tuple[float, str | None]] = OrderedDict()

    async def names(self, client: AsyncWebClient, user_ids: Iterable[str]) -> dict[str, str]:
        """The known names of these users (an unknown user is simply absent)."""
        found: dict[str, str] = {}
        for user_id in dict.fromkeys(u for u in user_ids if u):
            name = await self.name(client, user_id)
            if name:
                found[user_id] = name
        return found

    async def name(self, client: AsyncWebClient, user_id: str) -> str | None:
        cached = self._names.get(user_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
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
        self._names[user_id] = (now, name)
        self._names.move_to_end(user_id)
        while len(self._names) > self._capacity:
            self._names.popitem(last=False)
        return name
