"""Payloads of the events the fake Discord sends the bot: messages and interactions."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .ids import (
    APP_ID,
    APP_PERMISSIONS,
    ATTACHMENT_SIZE_LIMIT,
    CHANNEL_ID,
    MEMBER_PERMISSIONS,
    USER_ID,
    Json,
)
from .records import Interaction
from .world import World, now


def _option(name: str, value: Any, *, focused: bool = False) -> Json:
    kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 10
    if isinstance(value, str):
        kind = 3
    option: Json = {"type": kind, "name": name, "value": value}
    if focused:
        option["focused"] = True
    return option


def custom_ids(message: Json) -> list[str]:
    """All custom_ids of the components of a message payload, depth first."""
    found: list[str] = []

    def walk(components: Iterable[Json]) -> None:
        for component in components:
            if "custom_id" in component:
                found.append(component["custom_id"])
            walk(component.get("components", []))

    walk(message.get("components", []))
    return found


class EventBuilders(World):
    """The world, plus builders of MESSAGE_CREATE and INTERACTION_CREATE payloads in it."""

    def message_create(
        self,
        content: str,
        author_id: int = USER_ID,
        channel_id: int | None = None,
        guild_id: int | None = None,
        mentions: Sequence[int] = (),
        message_reference: Json | None = None,
        mention_roles: Sequence[int] = (),
    ) -> Json:
        """A MESSAGE_CREATE payload; without channel_id: the author's DM, or #general in a guild.

        With message_reference ({"message_id": ...}) of a message the fake knows, the payload
        carries it as referenced_message, as Discord does for replies.
        """
        if channel_id is None:
            channel_id = CHANNEL_ID if guild_id else int(self.add_dm_channel(author_id)["id"])
        channel = self.channels[channel_id]
        if guild_id is None and "guild_id" in channel:
            guild_id = int(channel["guild_id"])
        message: Json = {
            "id": str(self.snowflake()),
            "channel_id": str(channel_id),
            "author": self.users[author_id],
            "content": content,
            "timestamp": now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [self._mention(uid, guild_id) for uid in mentions],
            "mention_roles": [str(role) for role in mention_roles],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        if guild_id is not None:
            message["guild_id"] = str(guild_id)
            message["member"] = self._partial_member(author_id)
        if message_reference is not None:
            ref = {"type": 0, "channel_id": str(channel_id), **message_reference}
            ref = {k: str(v) if k.endswith("_id") else v for k, v in ref.items()}
            message["message_reference"] = ref
            message["type"] = 19
            if int(ref["message_id"]) in self.messages:
                message["referenced_message"] = self.messages[int(ref["message_id"])]
        self.messages[int(message["id"])] = message
        return message

    def interaction_create(
        self,
        command: Sequence[str],
        options: Mapping[str, Any] | None = None,
        user_id: int = USER_ID,
        channel_id: int | None = None,
        guild_id: int | None = None,
    ) -> Json:
        """A chat-input command (type 2); command is its path: ["memory", "show"]."""
        data = self._command_data(command, options, None)
        return self._interaction(2, data, user_id, channel_id, guild_id)

    def autocomplete(
        self,
        command: Sequence[str],
        options: Mapping[str, Any],
        focused: str,
        user_id: int = USER_ID,
        channel_id: int | None = None,
        guild_id: int | None = None,
    ) -> Json:
        """An autocomplete request (type 4) while the user types the option named focused."""
        data = self._command_data(command, options, focused)
        return self._interaction(4, data, user_id, channel_id, guild_id)

    def component_interaction(
        self,
        custom_id: str,
        user_id: int,
        message: Json,
        *,
        component_type: int = 2,
        values: Sequence[str] | None = None,
    ) -> Json:
        """A press on a component (type 3) of message (a payload from fake.messages)."""
        data: Json = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
        guild_id = int(message["guild_id"]) if "guild_id" in message else None
        return self._interaction(3, data, user_id, int(message["channel_id"]), guild_id, message)

    def _mention(self, user_id: int, guild_id: int | None) -> Json:
        mention = dict(self.users[user_id])
        if guild_id is not None and user_id in self.members:
            mention["member"] = self._partial_member(user_id)
        return mention

    def _partial_member(self, user_id: int) -> Json:
        return {k: v for k, v in self.members[user_id].items() if k != "user"}

    def _command_data(
        self, command: Sequence[str], options: Mapping[str, Any] | None, focused: str | None
    ) -> Json:
        name, *subcommands = command
        leaf = [_option(k, v, focused=k == focused) for k, v in (options or {}).items()]
        for depth, sub in reversed(list(enumerate(subcommands))):
            kind = 1 if depth == len(subcommands) - 1 else 2  # subcommand / subcommand group
            leaf = [{"type": kind, "name": sub, "options": leaf}]
        return {"id": str(self.snowflake()), "name": name, "type": 1, "options": leaf}

    def _interaction(
        self,
        kind: int,
        data: Json,
        user_id: int,
        channel_id: int | None,
        guild_id: int | None,
        message: Json | None = None,
    ) -> Json:
        if channel_id is None:
            channel_id = CHANNEL_ID if guild_id else int(self.add_dm_channel(user_id)["id"])
        channel = self.channels[channel_id]
        if guild_id is None and "guild_id" in channel:
            guild_id = int(channel["guild_id"])
        if kind in (2, 4):  # use the id of the synced command, as Discord does
            for scope in (guild_id, None):
                for known in self.commands.get(scope, []):
                    if known["name"] == data["name"] and "guild_id" not in data:
                        data["id"] = known["id"]
                        if scope is not None:
                            data["guild_id"] = str(scope)
        interaction_id = self.snowflake()
        token = f"interaction-{interaction_id}-{secrets.token_hex(8)}"
        payload: Json = {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": kind,
            "token": token,
            "version": 1,
            "data": data,
            "channel_id": str(channel_id),
            "channel": channel,
            "locale": "en-US",
            "app_permissions": APP_PERMISSIONS,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id or 0)},
            "context": 0 if guild_id else 1,  # GUILD / BOT_DM
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = "en-US"
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["member"] = {**self.members[user_id], "permissions": MEMBER_PERMISSIONS}
        else:
            payload["user"] = self.users[user_id]
        if message is not None:
            payload["message"] = message
        message_id = int(message["id"]) if message is not None else None
        self._interactions[token] = Interaction(
            interaction_id, kind, channel_id, guild_id, message_id
        )
        return payload
