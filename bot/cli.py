"""The command line: `bot` (platforms if tokens are set, else a console chat), `bot chat`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
import uuid
from importlib.metadata import PackageNotFoundError, version

from langchain_core.runnables import RunnableConfig

from bot.engine import build_policy, build_sealer, open_engine
from bot.errors import AdapterFailed
from bot.logs import configure_logging
from bot.platforms import enabled_platforms, platform_secrets
from bot.rotation import rotate
from bot.settings import Settings, get_settings
from bot.storage import database_label, open_storage
from memory import (
    ConfigurationError,
    IdentityError,
    MemoryRepository,
    PlainSealer,
    check_report,
    check_store,
)

log = logging.getLogger("bot")


DESCRIPTION = (
    "A Slack and Discord bot that remembers each person it talks to. With no command it runs "
    "the platforms whose tokens are set, or else a terminal chat."
)
CONFIGURATION = (
    "Configuration comes from environment variables or a .env file in the current folder: "
    "every variable is listed with a one-line comment in .env.example and explained in the "
    "'Configuration' table of README.md (MODEL is required)."
)
# Each command's own help names the others too.
COMMANDS = (
    "Commands: `bot run` (Slack and/or Discord), `bot chat` (a terminal chat) and "
    "`bot memory check` (stored items per memory kind), `bot memory rotate-key` (seal "
    "everything with the current MEMORY_ENCRYPTION_KEY). "
)


def _version() -> str:
    try:
        return version("memory-bot")
    except PackageNotFoundError:  # run from a source folder that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot", description=DESCRIPTION, epilog=CONFIGURATION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", title="commands", metavar="{run,chat,memory}")
    sub.add_parser(
        "run",
        help="run the Slack and/or Discord adapters whose tokens are set",
        description="Run the Slack and/or Discord adapters whose tokens are set, with "
        "/healthz and /metrics on PORT, until SIGTERM.",
        epilog=COMMANDS + CONFIGURATION,
    )
    chat = sub.add_parser(
        "chat",
        help="chat in the terminal",
        description="Chat with the bot in the terminal (or pipe text in); memory carries over.",
        epilog=COMMANDS + CONFIGURATION,
    )
    chat.add_argument("--user", default=None, help="who you are (default: your login name)")
    chat.add_argument("--resume", default=None, metavar="SESSION", help="continue a session")
    memory = sub.add_parser(
        "memory",
        help="look at stored memory, or rotate its encryption key",
        description="Look at stored memory without changing it (check), or seal it again "
        "with the current encryption key (rotate-key).",
        epilog=COMMANDS + CONFIGURATION,
    )
    what = memory.add_subparsers(dest="memory_command", metavar="{check,rotate-key}", required=True)
    what.add_parser(
        "check",
        help="count stored items per kind: current, migrated, invalid",
        description="Walk the store and print, per memory kind (MEMORY_KINDS), how many items "
        "fit its schema as they are (current), after the kind's migrations (migrated), or not "
        "at all (invalid: kept as stored). Exits 1 when some item is invalid.",
    )
    what.add_parser(
        "rotate-key",
        help="seal everything with the current MEMORY_ENCRYPTION_KEY",
        description="Re-wrap every data key with MEMORY_ENCRYPTION_KEY (the new key); seal each "
        "person's memory and each conversation's checkpoints that are plain (written before a "
        "key was set) or sealed directly with a master key with that person's or "
        "conversation's data key, so forget all shreds them; re-seal the rest sealed with a "
        "master key with the new key. Opens with the keys in MEMORY_ENCRYPTION_OLD_KEYS "
        "(optional). Afterwards the old keys open nothing still needed: remove them from "
        "MEMORY_ENCRYPTION_OLD_KEYS and discard them, and copies of forgotten people's wrapped "
        "keys in WAL, dead rows or backups can no longer be opened. Safe to run again; run it "
        "when every bot process already has the new settings.",
    )
    return parser


def _secrets(settings: Settings) -> list[str]:
    """Every secret setting's value that is set: each platform's, and the memory keys."""
    keys = [settings.memory_encryption_key, *settings.memory_encryption_old_keys]
    values = [v.get_secret_value() for v in keys if v is not None]
    # As given and stripped: both are keys (see build_sealer).
    both = dict.fromkeys([*values, *(v.strip() for v in values)])
    return platform_secrets(settings) + [v for v in both if v.strip()]


async def _chat(settings: Settings, user: str, session: str, resume: bool) -> None:
    from adapters.console.normalize import console_conversation, console_user
    from adapters.console.runner import run_console

    async with open_engine(settings) as (engine, storage):
        where = storage_description(settings)
        if resume:
            thread = console_conversation(console_user(user), session).key
            config: RunnableConfig = {"configurable": {"thread_id": thread}}
            if await storage.checkpointer.aget_tuple(config) is None:
                raise ConfigurationError(
                    f"no session {session} for --user {user} in {where}; "
                    "leave out --resume to start a new one"
                )
        await run_console(engine, user, session, storage=where, notices=settings.memory_notices)


async def _memory_check(settings: Settings) -> int:
    """`bot memory check`: counts per kind; 1 when any item is invalid or unreadable.

    Read-only: a SQLite DATA_DIR that does not exist is an error (it is not created), and
    memory sealed with another key is refused in one line, as at start."""
    policy = build_policy(settings)
    sealer = build_sealer(settings)
    _existing_data(settings)
    async with open_storage(settings.database_url, settings.data_dir, sealer=sealer) as storage:
        # A wholly wrong key is refused in one line; keys that only some items need are
        # counted below, item by item, as unreadable.
        repository = MemoryRepository(storage.store, sealer, policy.kinds)
        await repository.check_readable(wrapped=False)
        why: dict[str, str] = {}
        counts = await check_store(storage.store, sealer or PlainSealer(), policy.kinds, why)
    print(f"Memory in {storage_description(settings)}:")
    for line in check_report(counts):
        print(f"  {line}")
    unreadable = any(tally["unreadable"] for tally in counts.values())
    if unreadable:
        reason = f" ({why['why']})" if "why" in why else ""
        print(
            f"Some items cannot be opened{reason}: was MEMORY_ENCRYPTION_KEY (or one of "
            "MEMORY_ENCRYPTION_OLD_KEYS) the key that wrote them?"
        )
    return 1 if unreadable or any(tally["invalid"] for tally in counts.values()) else 0


async def _rotate_key(settings: Settings) -> int:
    """`bot memory rotate-key`: everything sealed with the current key, then checked to open
    with it alone. Raises ConfigurationError without a key, or for data no key opens."""
    sealer = build_sealer(settings)
    if sealer is None:
        raise ConfigurationError(
            "rotate-key needs MEMORY_ENCRYPTION_KEY, the key to seal everything with "
            "(MEMORY_ENCRYPTION_OLD_KEYS, the keys it replaces, is optional)"
        )
    _existing_data(settings, "rotate")
    async with open_storage(settings.database_url, settings.data_dir, sealer=sealer) as storage:
        try:
            done = await rotate(storage, sealer)
            if done.left:
                raise ConfigurationError(
                    f"rotate-key: {done.left} data key(s) or value(s) are still sealed with an "
                    "old key (rewritten meanwhile): is a bot process still running without the new "
                    "MEMORY_ENCRYPTION_KEY? Restart it with the new settings, run rotate-key "
                    "again, and keep MEMORY_ENCRYPTION_OLD_KEYS until it succeeds"
                )
            # Every key must now be wrapped with the new key, as the bot will need once the
            # old keys are removed.
            checked = await sealer.check_wrapped(everything=True, only_current=True)
        except ValueError as exc:
            raise ConfigurationError(
                f"rotate-key: stored data does not open with MEMORY_ENCRYPTION_KEY or "
                f"MEMORY_ENCRYPTION_OLD_KEYS ({exc}); what was sealed again before it opens "
                "with MEMORY_ENCRYPTION_KEY, keep the old keys set"
            ) from None
    after = (
        " Remove MEMORY_ENCRYPTION_OLD_KEYS and discard the old key(s)."
        if settings.memory_encryption_old_keys
        else ""
    )
    print(
        f"Sealed again with MEMORY_ENCRYPTION_KEY in {storage_description(settings)}: "
        f"{done.keys} data key(s), {done.values} stored value(s), {done.inbox} inbox "
        f"event(s), {done.checkpoints} conversation value(s); "
        + (f"all {checked} data key(s) open with it alone." if checked else "no data keys yet.")
        + after
    )
    return 0


def _existing_data(settings: Settings, verb: str = "check") -> None:
    """Raises ConfigurationError when DATA_DIR (SQLite) does not exist: there is nothing to
    `verb` ("check", "rotate"), and these commands create nothing."""
    if not settings.database_url and not settings.data_dir.is_dir():
        raise ConfigurationError(
            f"DATA_DIR={settings.data_dir}: no such directory, so no stored memory to {verb} "
            "(relative paths start where the bot starts)"
        )


def storage_description(settings: Settings) -> str:
    """Where memory is kept, as the person should read it: an absolute path (DATA_DIR is
    relative to the directory the bot starts in) or the database's host and name."""
    if settings.database_url:
        return f"PostgreSQL {database_label(settings.database_url)}"
    return f"SQLite in {settings.data_dir.resolve()}"


def main(argv: list[str] | None = None) -> int:
    """The `bot` console script: parse `argv` (sys.argv by default), run the command, return the
    exit status (0 ok, 1 a failure, 2 a configuration error, 130 interrupted)."""
    args = _parser().parse_args(argv)
    try:
        settings = get_settings()
        configure_logging(settings.log_level, _secrets(settings), settings.log_format)
        command = args.command
        if command is None:
            command = "run" if enabled_platforms(settings) else "chat"
        if command == "memory" and args.memory_command == "rotate-key":
            return asyncio.run(_rotate_key(settings))
        if command == "memory":
            return asyncio.run(_memory_check(settings))
        if command == "chat":
            user = getattr(args, "user", None)
            if user is not None and not user.strip():
                raise ConfigurationError("--user needs a name, e.g. --user alice")
            user = user or getpass.getuser() or "you"
            resume = getattr(args, "resume", None)
            if sys.stdin.isatty() and settings.log_level != "DEBUG":
                # Log lines would land in the middle of what the person is typing.
                logging.getLogger().setLevel(logging.WARNING)
            asyncio.run(_chat(settings, user, resume or uuid.uuid4().hex[:8], bool(resume)))
            return 0
        from bot.serve import run_platforms  # the adapters' libraries load only here

        asyncio.run(run_platforms(settings))
        return 0
    except (ConfigurationError, IdentityError) as exc:
        # Bad settings or arguments (a --user or --resume the bot can't use): say which.
        print(f"bot: {exc}", file=sys.stderr)
        return 2
    except AdapterFailed as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
