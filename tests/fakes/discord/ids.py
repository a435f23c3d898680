"""The fake Discord's fixed ids, token, API prefix and flag values."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

TOKEN = "fake-bot-token"
BOT_ID = 1400000000000000001  # the bot's user id
APP_ID = 1400000000000000002  # the application id (differs from BOT_ID on purpose)
OWNER_ID = 1400000000000000003  # owner of the application and of the guild
USER_ID = 1400000000000000004  # "alice", a human member of the guild
OTHER_USER_ID = 1400000000000000005  # "bob", another human member of the guild
GUILD_ID = 1400000000000000010
CHANNEL_ID = 1400000000000000011  # the guild's text channel "#general"
BOT_ROLE_ID = 1400000000000000012  # the role Discord made for the bot (tags.bot_id = BOT_ID)
OTHER_ROLE_ID = 1400000000000000013  # a role people made ("helpers")

API_PREFIX = "/api/v10"
EPHEMERAL = 64  # message flag
LOADING = 128  # message flag of a deferred ("thinking") response
# discord.Permissions.text() plus view_channel and read_message_history.
MEMBER_PERMISSIONS = "8515152769449024"
# discord.Permissions.all()
APP_PERMISSIONS = "8866461766385663"
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
