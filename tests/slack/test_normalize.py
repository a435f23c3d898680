"""The pure normalizers: keys, identity, text, and what is not for the bot to answer."""

from __future__ import annotations

import pytest

from adapters.slack.controls import ButtonValue
from adapters.slack.ids import MessageRef, command_conversation, key_part, permalink, slack_user
from adapters.slack.normalize import (
    clean_text,
    escape,
    to_chat_message,
    to_memory_command,
    to_prior_turns,
)
from memory.errors import CommandError, IdentityError
from tests.fakes.slack import app_mention_event, dm_event

NAMES = {"U1": "alice", "U2": "bob"}


def normalize(event: dict[str, object], **kwargs: object) -> object:
    args: dict[str, object] = {
        "team_id": "T1",
        "enterprise_id": None,
        "bot_user_id": "UBOT",
        "names": NAMES,
    }
    args.update(kwargs)
    return to_chat_message(event, **args)  # type: ignore[arg-type]


def test_a_mention_becomes_a_channel_thread_message() -> None:
    event = app_mention_event("<@UBOT> hi <@U2>!", ts="1700000000.000100")
    message = normalize(event, workspace_url="https://acme.slack.com/")

    assert message is not None
    assert message.user.key == "slack:T1:U1"  # type: ignore[attr-defined]
    assert message.user.name == "alice"  # type: ignore[attr-defined]
    assert message.text == "hi @bob!"  # type: ignore[attr-defined]
    conversation = message.conversation  # type: ignore[attr-defined]
    assert (conversation.key, conversation.audience) == (
        "slack:T1:C1:1700000000-000100",
        "channel",
    )
    assert message.message_id == "C1/1700000000.000100"  # type: ignore[attr-defined]
    assert message.permalink == "https://acme.slack.com/archives/C1/p1700000000000100"  # type: ignore[attr-defined]


def test_a_reply_in_a_thread_keeps_the_threads_conversation() -> None:
    event = app_mention_event("<@UBOT> and?", ts="1700000005.000001", thread_ts="1700000000.1")
    message = normalize(event)
    assert message.conversation.key == "slack:T1:C1:1700000000-1"  # type: ignore[attr-defined]


def test_a_dm_is_private_and_keyed_by_its_channel() -> None:
    message = normalize(dm_event("hello", channel="D9"))
    assert message.conversation.key == "slack:T1:D9"  # type: ignore[attr-defined]
    assert message.conversation.audience == "dm"  # type: ignore[attr-defined]


def test_a_grid_user_is_keyed_by_org_and_a_plain_one_by_workspace() -> None:
    message = normalize(dm_event("hello"), enterprise_id="E7")
    assert message.user.key == "slack:E7:U1"  # type: ignore[attr-defined]
    assert message.conversation.key == "slack:T1:D1"  # type: ignore[attr-defined]
    assert slack_user("U1", "T2", "E7").key == slack_user("U1", "T1", "E7").key
    assert slack_user("U1", "T2").key != slack_user("U1", "T1").key


@pytest.mark.parametrize(
    "change",
    [
        {"subtype": "message_changed"},
        {"subtype": "message_deleted"},
        {"subtype": "bot_message"},
        {"bot_id": "B2"},
        {"user": "UBOT"},
        {"text": "<@UBOT>"},
    ],
)
def test_what_is_not_answered(change: dict[str, str]) -> None:
    event = dm_event("hello")
    event.update(change)
    assert normalize(event) is None


def test_missing_ids_are_errors_not_defaults() -> None:
    no_user = dm_event("hello")
    del no_user["user"]
    with pytest.raises(IdentityError):
        normalize(no_user)
    with pytest.raises(IdentityError):
        normalize(dm_event("hello"), team_id=None)
    with pytest.raises(IdentityError):
        slack_user("", "T1")


def test_markup_becomes_plain_text() -> None:
    text = (
        "<@UBOT> ping <@U9|carol> in <#C1|general> &amp; see <https://x.io|docs> "
        "or <mailto:a@b.c|a@b.c> <!here> 1 &lt; 2"
    )
    assert clean_text(text, NAMES, "UBOT") == (
        "ping @carol in #general & see docs (https://x.io) or a@b.c @here 1 < 2"
    )
    assert escape("<!channel> & <b>") == "&lt;!channel&gt; &amp; &lt;b&gt;"


def test_prior_turns_are_the_thread_before_the_mention() -> None:
    messages = [
        {"user": "U2", "text": "We ship Friday", "ts": "1700000000.000001"},
        {"user": "UBOT", "text": "ok", "ts": "1700000001.000001"},
        {"bot_id": "B9", "username": "ci", "text": "build green", "ts": "1700000002.000001"},
        {"user": "U1", "text": "<@UBOT> now?", "ts": "1700000009.000001"},
    ]
    turns = to_prior_turns(messages, before_ts="1700000009.000001", bot_user_id="UBOT", names=NAMES)
    assert [(t.author, t.text) for t in turns] == [
        ("bob", "We ship Friday"),
        ("assistant", "ok"),
        ("ci", "build green"),
    ]


def test_ids_and_refs() -> None:
    assert key_part("1700000000.000100") == "1700000000-000100"
    assert MessageRef.parse("C1/1700000000.000100") == MessageRef("C1", "1700000000.000100")
    assert MessageRef.parse("line-3") is None
    assert command_conversation("T1", "D1").audience == "dm"  # type: ignore[union-attr]
    assert command_conversation("T1", "C1").audience == "channel"  # type: ignore[union-attr]
    link = permalink("https://a.slack.com/", "C1", "1700000005.000001", "1700000000.000001")
    assert link == (
        "https://a.slack.com/archives/C1/p1700000005000001?thread_ts=1700000000.000001&cid=C1"
    )


def test_button_values_round_trip_and_reject_junk() -> None:
    value = ButtonValue("slack:T1:U1", "f3k9q")
    assert ButtonValue.decode(value.encode()) == value
    for junk in (None, "", "f3k9q", "[]", '{"i": "x"}', '{"o": 5}'):
        assert ButtonValue.decode(junk) is None


def test_memory_commands() -> None:
    assert to_memory_command("show todos").scope == "todos"
    assert to_memory_command("forget all confirm").confirmed
    assert to_memory_command("correct I moved to Lisbon &amp; Porto").text == (
        "I moved to Lisbon & Porto"
    )
    with pytest.raises(CommandError, match="Usage"):
        to_memory_command("frobnicate")
