"""The Slack and Discord normalizers over 10,000 generated inputs each: a message comes out,
or None (not for the bot), or a clear IdentityError; no other exception escapes."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.discord.normalize import IncomingMessage, split_reply
from adapters.discord.normalize import to_chat_message as discord_message
from adapters.slack.normalize import to_chat_message as slack_message
from memory.errors import IdentityError
from memory.messages import ChatMessage

MANY = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))

slack_ids = st.one_of(
    st.none(), st.sampled_from(["U1", "UBOT", "D1", "C1", "T1", ""]), st.text(max_size=12)
)
timestamps = st.one_of(
    st.none(),
    st.sampled_from(["1700000000.000100", "1.2", "", "x"]),
    st.text(max_size=20),
    st.integers().map(str),
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
        "subtype": st.sampled_from(["bot_message", "message_changed", "thread_broadcast"]),
        "channel_type": st.sampled_from(["im", "channel", "group", "mpim"]),
        "user": slack_ids,
        "bot_id": slack_ids,
        "channel": slack_ids,
        "text": slack_text,
        "ts": timestamps,
        "thread_ts": timestamps,
        "team": slack_ids,
    },
)


@MANY
@given(
    slack_events, slack_ids, st.one_of(st.none(), st.just("E1")), st.sampled_from(["UBOT", None])
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
@given(st.text(max_size=9000))
def test_split_replies_fit_discord_and_lose_nothing_but_whitespace(text: str) -> None:
    parts = split_reply(text)
    assert all(len(part) <= 2000 for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())
