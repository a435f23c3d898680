"""Pure normalization: which messages are answered, keys, mention cleanup, reply splitting."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from adapters.discord.normalize import (
    IncomingMessage,
    conversation_ref,
    message_key,
    parse_message_key,
    split_reply,
    to_chat_message,
)

BOT = 900
ALICE = 100
GUILD = 500
CHANNEL = 600


def incoming(content: str, **fields: object) -> IncomingMessage:
    base: dict[str, object] = {
        "message_id": 700,
        "channel_id": CHANNEL,
        "guild_id": GUILD,
        "author_id": ALICE,
        "author_name": "Alice",
        "content": content,
    }
    return IncomingMessage(**{**base, **fields})  # type: ignore[arg-type]


def test_a_dm_is_answered_in_a_private_conversation() -> None:
    message = to_chat_message(incoming("hi", guild_id=None), BOT)
    assert message is not None
    assert message.user.key == f"discord:{ALICE}" and message.user.name == "Alice"
    assert message.conversation.key == f"discord:dm:{CHANNEL}"
    assert message.conversation.audience == "dm"
    assert message.message_id == f"{CHANNEL}/700"
    assert message.text == "hi"


def test_a_server_message_needs_a_mention_or_a_reply_to_the_bot() -> None:
    assert to_chat_message(incoming("hello all"), BOT) is None
    assert to_chat_message(incoming("hi", replied_to_author_id=ALICE + 1), BOT) is None

    mentioned = to_chat_message(incoming(f"<@{BOT}> hi", user_mentions={BOT: "bot"}), BOT)
    assert mentioned is not None and mentioned.text == "hi"
    assert mentioned.conversation.key == f"discord:{GUILD}:{CHANNEL}"
    assert mentioned.conversation.audience == "channel"

    replied = to_chat_message(incoming("and?", replied_to_author_id=BOT), BOT)
    assert replied is not None and replied.text == "and?"


def test_bots_self_system_and_empty_messages_are_ignored() -> None:
    mention = {"user_mentions": {BOT: "bot"}}
    assert to_chat_message(incoming(f"<@{BOT}> hi", author_is_bot=True, **mention), BOT) is None
    assert to_chat_message(incoming("hi", author_id=BOT, guild_id=None), BOT) is None
    assert to_chat_message(incoming("pinned", is_system=True, guild_id=None), BOT) is None
    assert to_chat_message(incoming(f"<@{BOT}>  ", **mention), BOT) is None


def test_mentions_become_names() -> None:
    message = to_chat_message(
        incoming(
            f"hey <@!{BOT}> ask <@200> and <@&300> in <#400> or <@999>",
            user_mentions={BOT: "bot", 200: "Bob"},
            role_mentions={300: "ops"},
            channel_mentions={400: "deploys"},
        ),
        BOT,
    )
    assert message is not None
    assert message.text == "hey ask @Bob and @ops in #deploys or @someone"


def test_a_thread_is_its_own_conversation() -> None:
    assert conversation_ref(GUILD, 601).key != conversation_ref(GUILD, CHANNEL).key
    assert conversation_ref(None, CHANNEL).key == f"discord:dm:{CHANNEL}"


def test_message_keys_round_trip() -> None:
    assert parse_message_key(message_key(1, 2)) == (1, 2)
    assert parse_message_key("line-3") is None
    assert parse_message_key("a/b") is None


def test_split_prefers_paragraphs_then_lines_then_words() -> None:
    text = "a" * 10 + "\n\n" + "b" * 5 + "\n" + "c" * 4 + " " + "d" * 3
    assert split_reply(text, limit=12) == ["a" * 10, "b" * 5, "c" * 4 + " " + "d" * 3]
    assert split_reply("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_reply("  short  ") == ["short"]
    assert split_reply("") == []


@given(st.text(alphabet=st.sampled_from("ab \n"), max_size=400), st.integers(2, 60))
def test_split_keeps_every_word_within_the_limit(text: str, limit: int) -> None:
    parts = split_reply(text, limit)
    assert all(0 < len(p) <= limit for p in parts)
    if all(len(word) <= limit for word in text.split()):
        assert " ".join(parts).split() == text.split()
    else:
        assert "".join("".join(parts).split()) == "".join(text.split())


def test_the_adapter_imports_no_other_adapter() -> None:
    root = Path(__file__).parents[2] / "adapters" / "discord"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("adapters.slack", "adapters.console", "bot")), path


def test_the_invite_asks_for_exactly_the_permissions_used() -> None:
    from adapters.discord.client import PERMISSIONS, invite_url

    assert PERMISSIONS.value == 274877975616
    url = invite_url(42)
    assert "client_id=42" in url and "scope=bot+applications.commands" in url
    assert "permissions=274877975616" in url


def test_split_never_cuts_a_word_that_fits() -> None:
    assert split_reply("a aaa", 4) == ["a", "aaa"]
