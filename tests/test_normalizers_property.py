"""The Slack and Discord normalizers over 10,000 generated inputs each: a message comes out,
or None (not for the bot), or a clear IdentityError; no other exception escapes."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.discord.normalize import IncomingMessage, split_reply
from adapters.discord.normalize import to_chat_message as discord_message
from adapters.slack.normalize import to_chat_message as slack_message
from adapters.split import split_text
from memory.errors import IdentityError
from memory.messages import ChatMessage

MANY = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))

# Any JSON value: Slack's payloads are JSON, and a field can arrive with another type.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
slack_ids = st.one_of(
    st.none(),
    st.sampled_from(["U1", "UBOT", "D1", "C1", "T1", ""]),
    st.text(max_size=12),
    json_values,
)
timestamps = st.one_of(
    st.none(),
    st.sampled_from(
        ["1700000000.000100", "1.2", "", "x", "100000000000000000", "1e400", "-1e400", "nan"]
    ),
    st.text(max_size=20),
    st.integers().map(str),
    json_values,
)
slack_text = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(["<@UBOT>", "<@U2>", "<@U2|bob>", "&lt;", "hello", " ", "<!here>"])
    ).map(" ".join),
)
slack_events = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["message", "app_mention", "reaction_added"]),
        "subtype": st.one_of(
            st.sampled_from(
                ["bot_message", "message_changed", "thread_broadcast", "me_message", "channel_join"]
            ),
            json_values,
        ),
        "channel_type": st.one_of(st.sampled_from(["im", "channel", "group", "mpim"]), json_values),
        "user": slack_ids,
        "bot_id": slack_ids,
        "channel": slack_ids,
        "text": st.one_of(slack_text, json_values),
        "ts": timestamps,
        "thread_ts": timestamps,
        "team": slack_ids,
    },
)


@MANY
@given(
    slack_events, slack_ids, st.one_of(st.none(), st.just("E1")), st.sampled_from(["UBOT", None])
)
@example(
    {"type": "message", "channel": "D1", "user": "U1", "text": "hi", "ts": "1" + "0" * 17},
    "T1",
    None,
    "UBOT",
)
@example(
    {"type": "message", "channel": "D1", "user": 7, "text": "hi", "ts": "1e400"}, "T1", None, None
)
@example(
    {"type": "message", "subtype": ["me_message"], "channel": "D1", "text": "hi"}, "T1", None, None
)
def test_slack_events_normalize_or_are_refused_clearly(
    event: dict[str, Any], team: str | None, enterprise: str | None, bot: str | None
) -> None:
    try:
        message = slack_message(
            event, team_id=team, enterprise_id=enterprise, bot_user_id=bot, names={"U2": "bob"}
        )
    except IdentityError as refused:
        assert str(refused)
        return
    if message is not None:
        assert isinstance(message, ChatMessage)
        assert message.user.platform == "slack" and message.user.id
        assert message.conversation.key.startswith("slack:")
        assert "<@UBOT>" not in message.text


snowflakes = st.integers(min_value=0, max_value=2**64)
names = st.text(max_size=40)
discord_messages = st.builds(
    IncomingMessage,
    message_id=snowflakes,
    channel_id=snowflakes,
    guild_id=st.one_of(st.none(), snowflakes),
    author_id=st.one_of(snowflakes, st.just(42)),
    author_name=names,
    content=st.one_of(
        st.text(max_size=500),
        st.lists(
            st.sampled_from(["<@42>", "<@!42>", "<@7>", "<@&9>", "<#5>", "hi", "@everyone"])
        ).map(" ".join),
    ),
    author_is_bot=st.booleans(),
    is_system=st.booleans(),
    user_mentions=st.dictionaries(st.one_of(snowflakes, st.just(42)), names, max_size=3),
    role_mentions=st.dictionaries(snowflakes, names, max_size=2),
    channel_mentions=st.dictionaries(snowflakes, names, max_size=2),
    replied_to_author_id=st.one_of(st.none(), snowflakes, st.just(42)),
)


@MANY
@given(discord_messages)
def test_discord_messages_normalize_or_are_refused_clearly(incoming: IncomingMessage) -> None:
    try:
        message = discord_message(incoming, bot_id=42)
    except IdentityError as refused:
        assert str(refused)
        return
    if message is not None:
        assert not incoming.author_is_bot and not incoming.is_system
        assert message.user.key == f"discord:{incoming.author_id}"
        assert message.conversation.audience == ("dm" if incoming.guild_id is None else "channel")
        assert "<@42>" not in message.text and "<@!42>" not in message.text


@settings(max_examples=2_000, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="`~"), max_size=9000))
def test_split_replies_fit_discord_and_lose_nothing_but_whitespace(text: str) -> None:
    parts = split_reply(text)
    assert all(len(part) <= 2000 for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


code_lines = st.lists(
    st.one_of(
        st.sampled_from(["```python", "```", "~~~", "", "    indented", "\tpass"]),
        st.text(max_size=120),
        st.text(alphabet=" x.", min_size=100, max_size=3000),
    ),
    max_size=80,
)


@settings(max_examples=1_000, deadline=None)
@given(code_lines, st.sampled_from([100, 2000, 4000]))
def test_split_text_keeps_fences_balanced_and_indentation(lines: list[str], limit: int) -> None:
    text = "\n".join(lines)
    parts = split_text(text, limit)
    assert all(0 < len(part) <= limit for part in parts)
    original = {line.rstrip() for line in text.split("\n")}
    for part in parts:
        fence: str | None = None
        for line in part.split("\n"):
            marker = re.match(r" {0,3}(`{3,}|~{3,})", line)
            if marker and fence is None:
                fence = marker.group(1)
            elif marker and marker.group(1).startswith(fence or "-") and not line.strip(" `~"):
                fence = None
            if line[:1].isspace() and len(line) < limit // 2:
                assert line.rstrip() in original  # indentation kept
        assert fence is None, part
