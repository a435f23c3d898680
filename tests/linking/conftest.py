"""Linking runs the Slack app and the Discord client side by side, on one engine."""

from __future__ import annotations

import pytest

from tests.discord.conftest import chat, client, fake, options, reconnect  # noqa: F401
from tests.slack.conftest import bot, delivery, slack  # noqa: F401


@pytest.fixture
def backend() -> str:
    """SQLite, as the platform tests; the people tables are tested on both backends."""
    return "sqlite"
