"""The app manifest asks for exactly the scopes and events the adapter uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from adapters.slack.app import COMMAND
from memory.commands.verbs import VERBS, usage_hint

MANIFEST = Path(__file__).resolve().parents[2] / "slack-app-manifest.yml"

# What the adapter calls or receives, and the bot scope each needs.
USED = {
    "app_mention event": "app_mentions:read",
    "message.channels event / conversations.replies (public)": "channels:history",
    "message.groups event / conversations.replies (private)": "groups:history",
    "message.im event": "im:history",
    "DM channel details": "im:read",
    "conversations.open": "im:write",
    "chat.postMessage": "chat:write",
    "chat.postEphemeral (the memory notice)": "chat:write",
    "reactions.add": "reactions:write",
    "users.info": "users:read",
    "files.getUploadURLExternal / files.completeUploadExternal": "files:write",
    "/memory": "commands",
}
EVENTS = {
    "app_mention",
    "message.channels",
    "message.groups",
    "message.im",
    "app_home_opened",
    # OAuth installs (adapters/slack/oauth.py); no scope needed
    "app_uninstalled",
    "tokens_revoked",
}


def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_scopes_are_exactly_those_used() -> None:
    scopes = manifest()["oauth_config"]["scopes"]["bot"]
    assert sorted(scopes) == sorted(set(USED.values()))
    assert len(scopes) == len(set(scopes))


def test_events_command_socket_mode_and_interactivity() -> None:
    data = manifest()
    settings = data["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == EVENTS
    assert [c["command"] for c in data["features"]["slash_commands"]] == [COMMAND]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert data["features"]["app_home"]["home_tab_enabled"] is True


def test_the_usage_hint_is_the_one_built_from_the_verbs() -> None:
    [memory] = manifest()["features"]["slash_commands"]
    assert memory["usage_hint"] == usage_hint()
    assert [part.split()[0] for part in memory["usage_hint"].split(" | ")] == [
        verb.words.split()[0] for verb in VERBS
    ]
