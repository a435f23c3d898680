"""A local fake of Slack for tests: the Web API, file uploads, response_url and Socket Mode.

Point the real slack-sdk / slack-bolt clients at it::

    async with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        ...
        call = await slack.wait_for_call("chat.postMessage", channel="C1")

Every Web API call is recorded as a `Call`, whatever its encoding (JSON body, form body or
GET query; the query string is merged in too, because the SDK sends `params=` of a POST
there). Form and query values stay strings, JSON values keep their types.

The parts: ``records`` (ids and what is recorded), ``recording`` (state, configuration and
waiting), ``web_api`` and ``socket_mode`` (what the server answers), ``server`` (FakeSlack),
and, for apps in HTTP mode, ``envelopes`` (what Slack sends) and ``signing`` (how it signs).
"""

from .envelopes import (
    app_mention_event,
    block_actions_form,
    dm_event,
    event_envelope,
    slash_command_fields,
    slash_command_form,
)
from .records import APP_ID, BOT_ID, BOT_USER_ID, Call, JsonDict, ResponseUrlPost, Upload
from .server import FakeSlack
from .signing import HttpReply, post_signed, sign_request

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "Call",
    "FakeSlack",
    "HttpReply",
    "JsonDict",
    "ResponseUrlPost",
    "Upload",
    "app_mention_event",
    "block_actions_form",
    "dm_event",
    "event_envelope",
    "post_signed",
    "sign_request",
    "slash_command_fields",
    "slash_command_form",
]
