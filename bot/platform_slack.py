"""Slack as a registered platform (bot.platforms.PLATFORMS): its settings to the adapter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.settings import Settings

if TYPE_CHECKING:  # loaded when the platform opens, not for `bot chat`
    from adapters.slack.oauth import OAuthConfig
    from adapters.slack.runner import SlackAdapter
    from memory import Delivery, MemoryEngine


class SlackPlatform:
    """Slack: SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID/SECRET (installs), over
    Socket Mode (SLACK_APP_TOKEN) or HTTP Events on PORT (SLACK_SIGNING_SECRET)."""

    name = "slack"
    setting_hint = "SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)"

    def enabled(self, settings: Settings) -> bool:
        """True when SLACK_BOT_TOKEN, or SLACK_CLIENT_ID or SLACK_CLIENT_SECRET (installs), is
        set."""
        return settings.slack_enabled

    def secrets(self, settings: Settings) -> Sequence[SecretStr | None]:
        """The bot token, the app token, the signing secret and the OAuth client secret."""
        return (
            settings.slack_bot_token,
            settings.slack_app_token,
            settings.slack_signing_secret,
            settings.slack_client_secret,
        )

    def check(self, settings: Settings) -> None:
        """Raises ConfigurationError for Slack settings that make no working setup (see
        Settings.check_slack)."""
        settings.check_slack()

    def open(self, engine: MemoryEngine, settings: Settings, delivery: Delivery) -> SlackAdapter:
        """The Slack adapter over Socket Mode or HTTP Events, for one workspace (SLACK_BOT_TOKEN)
        or installs (OAuth). Raises ConfigurationError for a combination of settings Slack cannot
        run with."""
        from adapters.slack.runner import SlackAdapter

        return SlackAdapter(
            engine,
            bot_token=_secret(settings.slack_bot_token),
            oauth=_oauth(settings),
            app_token=_secret(settings.slack_app_token),
            signing_secret=_secret(settings.slack_signing_secret),
            api_url=settings.slack_api_url,
            react_when_learned=settings.react_when_learned,
            notices=settings.memory_notices,
            delivery=delivery,
        )


def _oauth(settings: Settings) -> OAuthConfig | None:
    from adapters.slack.oauth import OAuthConfig

    if not settings.slack_oauth_enabled:
        return None
    return OAuthConfig(
        client_id=settings.slack_client_id or "",
        client_secret=_secret(settings.slack_client_secret) or "",
        erase_on_uninstall=settings.slack_on_uninstall == "erase",
        redirect_uri=settings.slack_redirect_uri,
    )


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
