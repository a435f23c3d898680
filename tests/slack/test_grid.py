"""Enterprise Grid: one person per org user, whatever the payload shape and the workspace."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.slack.ids import enterprise_of, slack_user
from memory.engine import MemoryEngine
from memory.identity import UserRef
from tests.fakes.slack import JsonDict, block_actions_form, dm_event, slash_command_fields
from tests.fakes.slack.records import BOT_USER_ID
from tests.slack.conftest import Bot, button, memory_of, next_ts, texts

GRID_USER = UserRef("slack", "W1", workspace="E1")


def grid(team: str, enterprise: str | None) -> JsonDict:
    """What a payload's `team` says in Grid (with its org) and outside it."""
    return {"id": team, "domain": "fake", **({"enterprise_id": enterprise} if enterprise else {})}


async def send_event(bot: Bot, event: JsonDict, team: str, enterprise: str | None) -> None:
    """An Events API envelope as Grid sends it (`enterprise_id` at the top and in
    `authorizations`), or as a plain workspace does."""
    envelope: JsonDict = {
        "type": "event_callback",
        "team_id": team,
        "api_app_id": "A1",
        "event_id": f"Ev{next_ts().replace('.', '')}",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": team, "user_id": BOT_USER_ID, "is_bot": True, "enterprise_id": enterprise}
        ],
        "event": event,
    }
    if enterprise:
        envelope["enterprise_id"] = enterprise
    reply = await bot.post(json.dumps(envelope).encode(), "application/json")
    assert reply.status == 200


async def dm(bot: Bot, text: str, team: str, enterprise: str | None, user: str = "W1") -> None:
    event = dm_event(text, user=user, channel=f"D{team}", ts=next_ts())
    await send_event(bot, event, team, enterprise)


async def command(
    bot: Bot, text: str, team: str, enterprise: str | None, user: str = "W1"
) -> JsonDict:
    name = f"cmd-{next_ts()}"
    fields = slash_command_fields(text, user, team, "C1", bot.slack.response_url(name))
    if enterprise:
        fields.update(
            enterprise_id=enterprise, enterprise_name="Org", is_enterprise_install="false"
        )
    reply = await bot.post(urlencode(fields).encode(), "application/x-www-form-urlencoded")
    assert reply.status == 200
    return await bot.slack.wait_for_response(name)


async def press(
    bot: Bot, pressed: JsonDict, team: str, enterprise: str | None, user: str = "W1"
) -> JsonDict:
    """A block action as Grid sends it: the org only in `team.enterprise_id`."""
    name = f"act-{next_ts()}"
    payload: JsonDict = {
        "type": "block_actions",
        "team": grid(team, enterprise),
        "user": {"id": user, "team_id": team},
        "api_app_id": "A1",
        "trigger_id": "trig.1",
        "container": {"type": "message", "channel_id": "C1", "is_ephemeral": True},
        "channel": {"id": "C1"},
        "response_url": bot.slack.response_url(name),
        "actions": [
            {
                "type": "button",
                "action_id": pressed["action_id"],
                "block_id": "b1",
                "value": pressed["value"],
                "action_ts": str(time.time()),
            }
        ],
    }
    reply = await bot.post(block_actions_form(payload), "application/x-www-form-urlencoded")
    assert reply.status == 200
    return await bot.slack.wait_for_response(name)


async def wait_replies(bot: Bot, count: int) -> None:
    await bot.slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "chat.postMessage"]) >= count
    )


async def test_grid_forget_all_forgets_every_workspace_of_the_org(
    bot: Bot, engine: MemoryEngine
) -> None:
    await dm(bot, "Remember that I keep bees.", "TA", "E1")
    await dm(bot, "Remember that I grow tea.", "TB", "E1")
    await wait_replies(bot, 2)
    await engine.learn_now(GRID_USER.key)
    shown_in_b = await command(bot, "show facts", "TB", "E1")
    assert "I keep bees" in shown_in_b["text"] and "I grow tea" in shown_in_b["text"]

    receipt = await command(bot, "forget all confirm", "TA", "E1")

    assert "2 facts, 2 DM conversation(s)" in receipt["text"], receipt["text"]
    assert texts(await memory_of(engine, GRID_USER)) == []
    after = await command(bot, "show facts", "TB", "E1")
    assert "bees" not in after["text"] and "tea" not in after["text"]


@pytest.mark.parametrize(("team", "enterprise"), [("TA", "E1"), ("T1", None)])
async def test_a_persons_own_buttons_work_in_grid_and_outside_it(
    bot: Bot, engine: MemoryEngine, team: str, enterprise: str | None
) -> None:
    user = "W1" if enterprise else "U1"
    person = slack_user(user, team, enterprise)
    await dm(bot, "Remember that I keep bees.", team, enterprise, user)
    await wait_replies(bot, 1)
    await engine.learn_now(person.key)
    shown = await command(bot, "show facts", team, enterprise, user)
    forget = button(shown["blocks"], "memory_forget")

    answer = await press(bot, forget, team, enterprise, user)

    assert answer["text"].startswith("Forgotten: I keep bees"), answer["text"]
    assert texts(await memory_of(engine, person)) == []


@pytest.mark.parametrize(("team", "enterprise"), [("TB", "E1"), ("T1", None)])
async def test_app_home_shows_the_same_person_in_grid_and_outside_it(
    bot: Bot, engine: MemoryEngine, team: str, enterprise: str | None
) -> None:
    user = "W1" if enterprise else "U1"
    await dm(bot, "Remember that I keep bees.", "TA" if enterprise else team, enterprise, user)
    await wait_replies(bot, 1)
    await engine.learn_now(slack_user(user, team, enterprise).key)
    opened: JsonDict = {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}
    await send_event(bot, opened, team, enterprise)

    published = await bot.slack.wait_for_call("views.publish", user_id=user)
    assert "I keep bees" in json.dumps(published.args["view"])


GRID_SHAPES: list[tuple[str, dict[str, Any]]] = [
    ("slash command", {"team_id": "TA", "enterprise_id": "E1", "user_id": "W1"}),
    ("events api", {"team_id": "TA", "authorizations": [{"enterprise_id": "E1"}]}),
    ("block actions", {"team": {"id": "TA", "enterprise_id": "E1"}, "enterprise": None}),
    ("view submission", {"team": {"id": "TA", "enterprise_id": "E1"}, "view": {"id": "V1"}}),
    ("org-wide block actions", {"team": None, "enterprise": {"id": "E1", "name": "Org"}}),
    ("org-wide interactivity", {"team": None, "user": {"id": "W1", "enterprise_id": "E1"}}),
]


@pytest.mark.parametrize(("shape", "payload"), GRID_SHAPES)
def test_every_payload_shape_names_the_org(shape: str, payload: dict[str, Any]) -> None:
    assert enterprise_of(payload) == "E1", shape
    plain = json.loads(json.dumps(payload).replace('"E1"', "null"))
    assert enterprise_of(plain) is None, shape
