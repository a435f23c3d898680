"""aiohttp's access log without query strings: an OAuth redirect carries its one-time `code`
and `state` in the query (https://api.slack.com/authentication/oauth-v2), and no secret or
message text is logged at INFO."""

from __future__ import annotations

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse


class PathOnlyAccessLogger(AbstractAccessLogger):
    """One INFO line per request: method, path (no query), status, seconds taken."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """aiohttp's access-log hook (`time`: seconds taken to serve the request;
        https://docs.aiohttp.org/en/stable/logging.html#access-logs): one INFO line,
        `GET /slack/install 200 0.012s`."""
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)
