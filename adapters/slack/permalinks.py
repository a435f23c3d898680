"""Slack message links: the workspace URL, learned once per team from chat.getPermalink.

slack-bolt fills `context.authorize_result.url` only with OAuth installs; with one bot token it
never does. Asking chat.getPermalink for every message would add a Web API call to each reply,
so the first answer per team gives the workspace's base URL and later links are built from it.
"""

from __future__ import annotations

import logging
from typing import Any

from cachetools import LRUCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

MAX_TEAMS = 10_000


def base_of(link: str) -> str | None:
    """`https://acme.slack.com/archives/C1/p17...` -> `https://acme.slack.com/`; None otherwise."""
    base, sep, _ = link.partition("/archives/")
    return base.rstrip("/") + "/" if sep and base.startswith("http") else None


class WorkspaceUrls:
    """Workspace base URLs by team id (bounded), from the request context or chat.getPermalink."""

    def __init__(self) -> None:
        self._by_team: LRUCache[str, str] = LRUCache(maxsize=MAX_TEAMS)

    async def base_url(
        self, client: AsyncWebClient, context: Any, channel: str, ts: str
    ) -> str | None:
        """The workspace URL for this request's team; None when Slack gives none (the
        memory is then kept without a link). Never raises for a Web API error."""
        result = getattr(context, "authorize_result", None)
        url = getattr(result, "url", None)
        if isinstance(url, str) and url:
            return url
        team = str(getattr(context, "team_id", None) or "")
        if team in self._by_team:
            return self._by_team[team]
        try:
            response = await client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError as exc:
            log.warning("Slack chat.getPermalink failed: %s", exc.response.get("error"))
            return None
        found = base_of(str(response.get("permalink") or ""))
        if found and team:
            self._by_team[team] = found
        return found
