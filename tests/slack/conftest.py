"""The real Slack app served over HTTP on 127.0.0.1, its Web API calls going to FakeSlack."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from adapters.http_log import PathOnlyAccessLogger
from adapters.slack.app import build_slack_app
from adapters.slack.runner import slack_routes
from bot.storage import Storage
from memory.commands.results import ShowResult
from memory.commands.verbs import MemoryCommand
from memory.engine import MemoryEngine
from memory.identity import UserRef
from memory.intake.delivery import Delivery
from tests.fakes.slack import (
    FakeSlack,
    HttpReply,
    JsonDict,
    app_mention_event,
    block_actions_form,
    dm_event,
    event_envelope,
    sign_request,
    slash_command_form,
)

BOT_TOKEN = "xoxb-1111-2222-secretbottoken"
APP_TOKEN = "xapp-1-A1-3333-secretapptoken"
SECRET = "slack-signing-secret-9f8e7d6c"
ALICE = UserRef("slack", "U1", workspace="T1")
BOB = UserRef("slack", "U2", workspace="T1")


@pytest.fixture
def backend() -> str:
    """Slack tests run on SQLite; the cross-process tests ask for Postgres themselves."""
    return "sqlite"


class SlackServer(FakeSlack):
    """FakeSlack plus conversations.open (the export goes to the person's DM with the bot)."""

    def _handlers(self) -> dict[str, Any]:
        handlers = super()._handlers()
        handlers["conversations.open"] = lambda args: {
            "ok": True,
            "channel": {"id": f"D{args.get('users')}"},
        }
        return handlers


@pytest.fixture
async def slack() -> AsyncIterator[SlackServer]:
    fake = SlackServer()
    async with fake:
        fake.add_user("U1", "alice", real_name="Alice Liddell")
        fake.add_user("U2", "bob", real_name="Bob Builder")
        yield fake
    assert not fake.violations, f"sent what Slack refuses: {fake.violations}"


_ts = iter(range(1, 1_000_000))


def next_ts() -> str:
    """A fresh, increasing Slack ts for a test message."""
    return f"1700000000.{next(_ts):06d}"


@dataclass
class Bot:
    """Sends signed requests to the served app, as Slack would."""

    url: str
    session: aiohttp.ClientSession
    slack: SlackServer
    app: AsyncApp

    async def post(
        self, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> HttpReply:
        signed = {"Content-Type": content_type, **sign_request(SECRET, body), **(headers or {})}
        async with self.session.post(self.url, data=body, headers=signed) as resp:
            return HttpReply(resp.status, await resp.text())

    async def event(
        self, event: JsonDict, *, event_id: str | None = None, retry: int = 0
    ) -> tuple[HttpReply, str]:
        envelope = event_envelope(event, event_id=event_id)
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        body = json.dumps(envelope).encode()
        reply = await self.post(body, "application/json", headers if retry else None)
        assert reply.status == 200, reply
        return reply, str(envelope["event_id"])

    async def mention(self, text: str, **kwargs: Any) -> str:
        ts = kwargs.pop("ts", None) or next_ts()
        await self.event(app_mention_event(f"<@UBOT> {text}", ts=ts, **kwargs))
        return ts

    async def dm(self, text: str, user: str = "U1", channel: str = "D1") -> str:
        ts = next_ts()
        await self.event(dm_event(text, user=user, channel=channel, ts=ts))
        return ts

    async def command(self, text: str, user: str = "U1", name: str | None = None) -> JsonDict:
        """/memory <text>; returns what the app sent to the response_url."""
        name = name or f"cmd-{next_ts()}"
        body = slash_command_form(text, user, "T1", "C1", self.slack.response_url(name))
        reply = await self.post(body, "application/x-www-form-urlencoded")
        assert reply.status == 200, reply
        return await self.slack.wait_for_response(name)

    async def press(
        self, button: JsonDict, user: str = "U1", container: str = "message"
    ) -> JsonDict | None:
        """Press a Block Kit button; returns the response_url answer (None in App Home)."""
        name = f"act-{next_ts()}"
        payload: JsonDict = {
            "type": "block_actions",
            "team": {"id": "T1", "domain": "fake"},
            "user": {"id": user, "team_id": "T1"},
            "api_app_id": "A1",
            "trigger_id": "trig.1",
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": "b1",
                    "value": button["value"],
                    "action_ts": str(time.time()),
                }
            ],
        }
        if container == "view":
            payload["container"] = {"type": "view", "view_id": "V1"}
            payload["view"] = {"id": "V1", "type": "home"}
        else:
            payload["container"] = {"type": "message", "channel_id": "C1", "is_ephemeral": True}
            payload["channel"] = {"id": "C1"}
            payload["response_url"] = self.slack.response_url(name)
        reply = await self.post(block_actions_form(payload), "application/x-www-form-urlencoded")
        assert reply.status == 200, reply
        if container == "view":
            return None
        return await self.slack.wait_for_response(name)


@asynccontextmanager
async def serve(app: AsyncApp, slack: SlackServer) -> AsyncIterator[Bot]:
    """Serve the app's routes over HTTP on 127.0.0.1 (as bot's web app does) and sign
    requests to it."""
    web_app = web.Application()
    web_app.router.add_routes(slack_routes(app, SECRET))
    runner = web.AppRunner(web_app, access_log_class=PathOnlyAccessLogger)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            yield Bot(f"http://127.0.0.1:{port}/slack/events", session, slack, app)
    finally:
        await runner.cleanup()


@pytest.fixture
def delivery(storage: Storage) -> Delivery:
    """Delivery on the test's storage (its inbox in the test database)."""
    return Delivery(storage.inbox)


@pytest.fixture
async def bot(engine: MemoryEngine, slack: SlackServer, delivery: Delivery) -> AsyncIterator[Bot]:
    app = build_slack_app(
        engine,
        bot_token=BOT_TOKEN,
        signing_secret=SECRET,
        api_url=slack.api_url,
        delivery=delivery,
    )
    async with serve(app, slack) as served:
        yield served


# ---- reading what the app sent --------------------------------------------------------------


def buttons(blocks: list[JsonDict]) -> list[JsonDict]:
    """Every button in a list of blocks (section accessories and actions blocks)."""
    found: list[JsonDict] = []
    for block in blocks:
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            found.append(accessory)
        found.extend(e for e in block.get("elements", []) if e.get("type") == "button")
    return found


def button(blocks: list[JsonDict], action_id: str) -> JsonDict:
    matches = [b for b in buttons(blocks) if b["action_id"] == action_id]
    assert matches, f"no {action_id} button in {json.dumps(blocks)}"
    return matches[0]


def blocks_text(blocks: list[JsonDict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def item_ids(blocks: list[JsonDict]) -> list[str]:
    """The ids shown in `code` before each item."""
    return re.findall(r"`([a-z0-9]{2,24})` ", blocks_text(blocks))


async def memory_of(engine: MemoryEngine, user: UserRef = ALICE) -> ShowResult:
    result = await engine.run_command(user, MemoryCommand("show"))
    assert isinstance(result, ShowResult)
    return result


def texts(show: ShowResult) -> list[str]:
    return [v.text for v in (*show.profiles, *show.facts, *show.todos)]


class LogWaiter(logging.Handler):
    """Lets a test wait for a log record (a listener's 'done' signal) instead of sleeping."""

    def __init__(self, needle: str) -> None:
        super().__init__(logging.DEBUG)
        self.needle = needle
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.seen.set()

    async def wait(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            await self.seen.wait()


@pytest.fixture
def wait_for_log() -> Iterator[Any]:
    installed: list[tuple[logging.Logger, LogWaiter, int]] = []

    def make(needle: str, logger: str = "adapters.slack") -> LogWaiter:
        target = logging.getLogger(logger)
        waiter = LogWaiter(needle)
        installed.append((target, waiter, target.level))
        target.addHandler(waiter)
        target.setLevel(logging.DEBUG)
        return waiter

    yield make
    for target, waiter, level in installed:
        target.removeHandler(waiter)
        target.setLevel(level)
