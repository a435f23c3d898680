"""The Slack adapter: mentions, DMs, thread follow-ups, /memory and App Home on slack-bolt."""

from adapters.slack.app import build_slack_app
from adapters.slack.runner import run_slack

__all__ = ["build_slack_app", "run_slack"]
