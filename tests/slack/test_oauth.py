"""A Slack app installed into many workspaces, over the wire: the OAuth install through the fake
(oauth.v2.access), each workspace answered with its own token, token rotation, uninstalls (the
workspace's memories kept or erased as configured), and installs a forged state can't finish."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
import yaml  # type: ignore[import-untyped]

from adapters.slack.app import build_slack_app
from adapters.slack.installations import StoreInstallationStore
from adapters.slack.oauth import BOT_SCOPES, OAuthConfig
from adapters.slack.runner import check_slack_options
from memory.accounts.workspaces import users_under
from memory.engine import MemoryEngine
from memory.errors import ConfigurationError
from tests.fakes.slack import JsonDict, dm_event, event_envelope
from tests.slack.conftest import SECRET, Bot, SlackServer, next_ts, serve

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "CLIENT1"
CLIENT_SECRET = "client-secret-1"
STATE_COOKIE = "slack-app-oauth-state"


@asynccontextmanager
async def oauth_bot(
    engine: MemoryEngine, slack: SlackServer, *, erase: bool = False
) -> AsyncIterator[Bot]:
    config = OAuthConfig(CLIENT_ID, CLIENT_SECRET, erase_on_uninstall=erase)
    app = build_slack_app(engine, oauth=config, signing_secret=SECRET, api_url=slack.api_url)
    async with serve(app, slack) as bot:
        yield bot


def base_of(bot: Bot) -> str:
    return bot.url.removesuffix("/slack/events")


async def start_install(session: aiohttp.ClientSession, base: str) -> str:
    """Open /slack/install as a browser does; returns the state it was given."""
    async with session.get(f"{base}/slack/install") as page:
        assert page.status == 200
        html = await page.text()
        cookie = page.headers.get("Set-Cookie", "")
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', html)
    assert link, html
    query = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert set(query["scope"][0].split(",")) == set(BOT_SCOPES)
    state = query["state"][0]
    assert f"{STATE_COOKIE}={state}" in cookie
    return state


async def finish_install(
    session: aiohttp.ClientSession, base: str, code: str, state: str
) -> tuple[int, str]:
    """Slack sends the browser back to /slack/oauth_redirect with the code and the state."""
    url = f"{base}/slack/oauth_redirect?code={code}&state={state}"
    headers = {"Cookie": f"{STATE_COOKIE}={state}"}
    async with session.get(url, headers=headers) as done:
        return done.status, await done.text()


async def install(session: aiohttp.ClientSession, base: str, code: str) -> None:
    """The whole install of one workspace, as its admin's browser goes through it."""
    status, page = await finish_install(session, base, code, await start_install(session, base))
    assert status == 200, page


async def send(bot: Bot, event: JsonDict, team: str) -> str:
    """An event from workspace `team`, signed; returns what the app answered over HTTP."""
    body = json.dumps(event_envelope(event, team_id=team)).encode()
    reply = await bot.post(body, "application/json")
    assert reply.status == 200, reply
    return reply.text


@pytest.mark.parametrize("on_uninstall", ["keep", "erase"])
async def test_two_workspaces_each_answered_with_its_token_then_one_uninstalls(
    engine: MemoryEngine, slack: SlackServer, on_uninstall: str
) -> None:
    slack.grant("code-one", team_id="T1", bot_token="xoxb-one-token")
    slack.grant("code-two", team_id="T2", bot_token="xoxb-two-token")
    async with oauth_bot(engine, slack, erase=on_uninstall == "erase") as bot:
        await install(bot.session, base_of(bot), "code-one")
        await install(bot.session, base_of(bot), "code-two")
        exchanges = [c for c in slack.calls if c.method == "oauth.v2.access"]
        assert [c.args["code"] for c in exchanges] == ["code-one", "code-two"]

        await send(bot, dm_event("I keep bees", channel="D1", ts=next_ts()), team="T1")
        await send(bot, dm_event("I play chess", channel="D2", ts=next_ts()), team="T2")
        one = await slack.wait_for_call("chat.postMessage", channel="D1", timeout=20)
        two = await slack.wait_for_call("chat.postMessage", channel="D2", timeout=20)
        assert (one.token, two.token) == ("xoxb-one-token", "xoxb-two-token")
        assert await users_under(engine.store, "slack:T2:") == ["slack:T2:U1"]

        slack.revoke("T2")
        await send(bot, {"type": "app_uninstalled"}, team="T2")
        installations = stored(engine)
        await eventually(lambda: gone(installations, "T2"))
        assert await installations.async_find_installation(enterprise_id=None, team_id="T2") is None
        assert await installations.async_find_bot(enterprise_id=None, team_id="T1") is not None

        # T2 is no longer answered (bolt finds no installation); T1 still is.
        refused = await send(bot, dm_event("still there?", channel="D2", ts=next_ts()), "T2")
        assert "install" in refused.lower()
        await send(bot, dm_event("and now?", channel="D9", ts=next_ts()), team="T1")
        again = await slack.wait_for_call("chat.postMessage", channel="D9", timeout=20)
        assert again.token == "xoxb-one-token"
        assert [c.token for c in slack.calls if c.method == "chat.postMessage"].count(
            "xoxb-two-token"
        ) == 1

        expected = [] if on_uninstall == "erase" else ["slack:T2:U1"]
        await eventually(lambda: people_in(engine, "T2", expected))
        assert await users_under(engine.store, "slack:T1:") == ["slack:T1:U1"]


async def test_a_rotating_token_is_refreshed_before_it_expires(
    engine: MemoryEngine, slack: SlackServer
) -> None:
    # expires_in is short of bolt's 120-minute margin: the first event refreshes it.
    slack.grant(
        "code-three", team_id="T3", bot_token="xoxb-three-a", refresh_token="xoxe-3", expires_in=60
    )
    async with oauth_bot(engine, slack) as bot:
        await install(bot.session, base_of(bot), "code-three")
        await send(bot, dm_event("hello", channel="D3", ts=next_ts()), team="T3")
        posted = await slack.wait_for_call("chat.postMessage", channel="D3", timeout=20)
    refresh = await slack.wait_for_call("oauth.v2.access", grant_type="refresh_token")
    assert refresh.args["refresh_token"] == "xoxe-3"
    assert posted.token == "xoxb-three-a-r0"
    bot_row = await stored(engine).async_find_bot(enterprise_id=None, team_id="T3")
    assert bot_row is not None
    assert (bot_row.bot_token, bot_row.bot_refresh_token) == ("xoxb-three-a-r0", "xoxe-3-r0")


async def test_tokens_revoked_removes_the_bot_token(
    engine: MemoryEngine, slack: SlackServer
) -> None:
    slack.grant("code-four", team_id="T4", bot_token="xoxb-four")
    async with oauth_bot(engine, slack) as bot:
        await install(bot.session, base_of(bot), "code-four")
        slack.revoke("T4")
        await send(bot, {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}, team="T4")
        await eventually(lambda: gone(stored(engine), "T4"))


async def test_an_install_with_a_forged_state_is_refused(
    engine: MemoryEngine, slack: SlackServer
) -> None:
    slack.grant("code-five", team_id="T5", bot_token="xoxb-five")
    async with oauth_bot(engine, slack) as bot:
        session, base = bot.session, base_of(bot)
        await start_install(session, base)  # a real state exists; this browser shows another
        status, _page = await finish_install(session, base, "code-five", "forged-state")
        assert status >= 400
        # A state is good once: the second redirect with the same state is refused too.
        state = await start_install(session, base)
        assert (await finish_install(session, base, "code-five", state))[0] == 200
        assert (await finish_install(session, base, "code-five", state))[0] >= 400
    exchanges = [c for c in slack.calls if c.method == "oauth.v2.access"]
    assert len(exchanges) == 1


async def test_tokens_are_sealed_with_the_encryption_key(slack: SlackServer) -> None:
    from langgraph.store.memory import InMemoryStore
    from slack_sdk.oauth.installation_store import Installation

    from memory.storage.sealing import AesGcmSealer

    store = InMemoryStore()
    installations = StoreInstallationStore(store, AesGcmSealer("a key of our own"))
    await installations.async_save(
        Installation(team_id="T6", bot_token="xoxb-secret-six", bot_id="B6", user_id="U1")
    )
    raw = await store.asearch(("adapters", "slack", "installations", "none-T6"))
    assert raw and all("xoxb-secret-six" not in json.dumps(item.value) for item in raw)
    found = await installations.async_find_installation(enterprise_id=None, team_id="T6")
    assert found is not None and found.bot_token == "xoxb-secret-six"


def test_the_manifest_asks_for_the_scopes_the_install_asks_for() -> None:
    manifest = yaml.safe_load((ROOT / "slack-app-manifest.yml").read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)


@pytest.mark.parametrize(
    ("bot_token", "app_token", "secret", "problem"),
    [
        ("xoxb-1", None, "s", "not both"),
        (None, "xapp-1", "s", "HTTP Events"),
        (None, None, None, "HTTP Events"),
    ],
)
def test_oauth_options_that_cannot_work_are_refused(
    bot_token: str | None, app_token: str | None, secret: str | None, problem: str
) -> None:
    oauth = OAuthConfig(CLIENT_ID, CLIENT_SECRET)
    with pytest.raises(ConfigurationError, match=problem):
        check_slack_options(bot_token, oauth, app_token, secret)


# ---- helpers ----------------------------------------------------------------------------------


def stored(engine: MemoryEngine) -> StoreInstallationStore:
    return StoreInstallationStore(engine.store, engine.repository.sealer)


async def gone(installations: StoreInstallationStore, team: str) -> bool:
    return await installations.async_find_bot(enterprise_id=None, team_id=team) is None


async def people_in(engine: MemoryEngine, team: str, expected: list[str]) -> bool:
    return await users_under(engine.store, f"slack:{team}:") == expected


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Bolt acks an event before its listener finishes: wait for the listener's effect."""
    for _ in range(400):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the expected effect never happened")


async def test_the_access_log_keeps_no_oauth_code_or_state(
    engine: MemoryEngine, slack: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="aiohttp.access")
    async with oauth_bot(engine, slack) as bot:
        url = f"{base_of(bot)}/slack/oauth_redirect?code=SECRETCODE42&state=SECRETSTATE42"
        async with bot.session.get(url) as page:
            assert page.status < 500
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any("/slack/oauth_redirect" in line for line in lines)
    assert not any("SECRET" in line for line in lines)
