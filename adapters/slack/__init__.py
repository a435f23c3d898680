"""The Slack adapter: mentions, DMs, thread follow-ups, /memory and App Home on slack-bolt."""

from adapters.slack.app import build_slack_app
from adapters.slack.runner import SlackAdapter

__all__ = ["SlackAdapter", "build_slack_app"]
