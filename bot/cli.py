"""The command line: `bot` (platforms if tokens are set, else a console chat), `bot chat`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
import uuid

from bot.engine import open_engine
from bot.logs import configure_logging
from bot.settings import Settings, get_settings
from memory.errors import ConfigurationError, IdentityError

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    chat = sub.add_parser("chat", help="chat in the terminal")
    chat.add_argument("--user", default=None, help="who you are (default: your login name)")
    chat.add_argument("--resume", default=None, metavar="SESSION", help="continue a session")
    sub.add_parser("run", help="run the Slack and/or Discord adapters whose tokens are set")
    return parser


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.slack_signing_secret,
        settings.discord_token,
        settings.memory_encryption_key,
        settings.memory_encryption_old_keys,
    ]
    return [v.get_secret_value() for v in values if v is not None]


async def _chat(settings: Settings, user: str, session: str) -> None:
    from adapters.console.runner import run_console

    async with open_engine(settings) as (engine, _storage):
        await run_console(engine, user, session)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = get_settings()
        configure_logging(settings.log_level, _secrets(settings), settings.log_format)
        command = args.command
        if command is None:
            command = "run" if settings.slack_enabled or settings.discord_enabled else "chat"
        if command == "chat":
            user = getattr(args, "user", None) or getpass.getuser() or "you"
            session = getattr(args, "resume", None) or uuid.uuid4().hex[:8]
            asyncio.run(_chat(settings, user, session))
            return 0
        from bot.platforms import run_platforms

        asyncio.run(run_platforms(settings))
        return 0
    except (ConfigurationError, IdentityError) as exc:
        # Bad settings or arguments (a --user or --resume the bot can't use): say which.
        print(f"bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
