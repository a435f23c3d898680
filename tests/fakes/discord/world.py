"""The fake Discord's world: the guild, its users, channels and messages, and their payloads."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .ids import (
    APP_ID,
    BOT_ID,
    BOT_ROLE_ID,
    CHANNEL_ID,
    GUILD_ID,
    MEMBER_PERMISSIONS,
    OTHER_ROLE_ID,
    OTHER_USER_ID,
    OWNER_ID,
    USER_ID,
    Json,
)
from .records import Interaction, UploadedFile


def now() -> str:
    """The current time as Discord writes timestamps."""
    return datetime.now(UTC).isoformat()


def user_payload(user_id: int, username: str, *, bot: bool = False) -> Json:
    """A user object as Discord sends it."""
    return {
        "id": str(user_id),
        "username": username,
        "discriminator": "0",
        "global_name": None if bot else username.title(),
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


class World:
    """One guild with the bot, its owner, alice and bob, and the text channel #general."""

    def __init__(self) -> None:
        self.users: dict[int, Json] = {}
        self.channels: dict[int, Json] = {}
        self.members: dict[int, Json] = {}  # guild members by user id
        self.messages: dict[int, Json] = {}
        # synced commands by guild id (None: global)
        self.commands: dict[int | None, list[Json]] = {}
        self._ids = itertools.count(1_400_000_000_000_001_000)
        self._interactions: dict[str, Interaction] = {}
        self.bot_user = self.add_user("memory-bot", user_id=BOT_ID, bot=True, guild_member=True)
        self.add_user("owner", user_id=OWNER_ID)
        self.add_user("alice", user_id=USER_ID, guild_member=True)
        self.add_user("bob", user_id=OTHER_USER_ID, guild_member=True)
        self.channels[CHANNEL_ID] = {
            "id": str(CHANNEL_ID),
            "type": 0,
            "guild_id": str(GUILD_ID),
            "name": "general",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def snowflake(self) -> int:
        return next(self._ids)

    def add_user(
        self,
        username: str,
        *,
        user_id: int | None = None,
        bot: bool = False,
        guild_member: bool = False,
    ) -> Json:
        """Add a user (optionally a member of the guild); returns the user payload."""
        user = user_payload(user_id or self.snowflake(), username, bot=bot)
        self.users[int(user["id"])] = user
        if guild_member:
            self.members[int(user["id"])] = {
                "user": user,
                "roles": [],
                "nick": None,
                "joined_at": now(),
                "deaf": False,
                "mute": False,
                "pending": False,
                "flags": 0,
            }
        return user

    def add_dm_channel(self, user_id: int) -> Json:
        """The DM channel between the bot and a user, created on first use."""
        for channel in self.channels.values():
            if channel["type"] == 1 and channel["recipients"][0]["id"] == str(user_id):
                return channel
        channel = {
            "id": str(self.snowflake()),
            "type": 1,
            "recipients": [self.users[user_id]],
            "last_message_id": None,
            "flags": 0,
        }
        self.channels[int(channel["id"])] = channel
        return channel

    def guild_payload(self) -> Json:
        """The full guild, as GUILD_CREATE sends it."""
        return {
            "id": str(GUILD_ID),
            "name": "Test Guild",
            "icon": None,
            "owner_id": str(OWNER_ID),
            "unavailable": False,
            "large": False,
            "member_count": len(self.members),
            "joined_at": now(),
            "features": [],
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "afk_timeout": 300,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "roles": [
                {
                    "id": str(GUILD_ID),
                    "name": "@everyone",
                    "color": 0,
                    "hoist": False,
                    "position": 0,
                    "permissions": MEMBER_PERMISSIONS,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                },
                # The role Discord creates when a bot joins: managed, tagged with the bot.
                {
                    "id": str(BOT_ROLE_ID),
                    "name": "Memory Bot",
                    "color": 0,
                    "hoist": False,
                    "position": 1,
                    "permissions": MEMBER_PERMISSIONS,
                    "managed": True,
                    "mentionable": True,
                    "flags": 0,
                    "tags": {"bot_id": str(BOT_ID)},
                },
                {
                    "id": str(OTHER_ROLE_ID),
                    "name": "helpers",
                    "color": 0,
                    "hoist": False,
                    "position": 2,
                    "permissions": MEMBER_PERMISSIONS,
                    "managed": False,
                    "mentionable": True,
                    "flags": 0,
                },
            ],
            "channels": [c for c in self.channels.values() if c.get("guild_id") == str(GUILD_ID)],
            "members": list(self.members.values()),
            "threads": [],
            "emojis": [],
            "stickers": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def application_payload(self) -> Json:
        return {
            "id": str(APP_ID),
            "name": "memory-bot",
            "description": "Remembers each person it talks to.",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.users[OWNER_ID],
            "team": None,
            "verify_key": "0" * 64,
            "flags": 1 << 19,  # GATEWAY_MESSAGE_CONTENT_LIMITED
            "summary": "",
            "bot": self.bot_user,
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": 1,
        }

    # -- messages the bot sends ---------------------------------------------------------------

    def _attachments(self, channel_id: int, files: Sequence[UploadedFile]) -> list[Json]:
        attachments = []
        for upload in files:
            attachment_id = self.snowflake()
            url = f"https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/{upload.filename}"
            attachments.append(
                {
                    "id": str(attachment_id),
                    "filename": upload.filename,
                    "size": len(upload.content),
                    "url": url,
                    "proxy_url": url,
                    "content_type": "application/octet-stream",
                }
            )
        return attachments

    def _new_message(
        self,
        channel_id: int,
        body: Json,
        files: Sequence[UploadedFile],
        *,
        message_type: int = 0,
        interaction: Interaction | None = None,
    ) -> Json:
        """A message the bot sent, stored in self.messages."""
        channel = self.channels.get(channel_id, {})
        message: Json = {
            "id": str(self.snowflake()),
            "channel_id": str(channel_id),
            "author": self.bot_user,
            "content": body.get("content") or "",
            "timestamp": now(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments(channel_id, files),
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": message_type,
            "flags": body.get("flags", 0),
        }
        if "guild_id" in channel:
            message["guild_id"] = channel["guild_id"]
        if interaction is not None:
            message["application_id"] = str(APP_ID)
            message["webhook_id"] = str(APP_ID)
        self.messages[int(message["id"])] = message
        return message

    def _edit(self, message: Json, body: Json, files: Sequence[UploadedFile]) -> None:
        for key in ("content", "embeds", "components"):
            if key in body:
                empty: Any = "" if key == "content" else []
                message[key] = empty if body[key] is None else body[key]
        if files:
            message["attachments"] = self._attachments(int(message["channel_id"]), files)
        message["edited_timestamp"] = now()
