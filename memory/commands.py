"""The /memory command language: parsing free text into a MemoryCommand, with clear refusals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from memory.errors import CommandError

Action = Literal[
    "show",
    "forget",
    "forget_all",
    "correct",
    "export",
    "pause",
    "resume",
    "help",
    "history",
    "link",
    "unlink",
    "undo",
    "why",
]
PLATFORMS = ("slack", "discord", "console")
# "all", or a memory kind's name, item name or alias (memory.kinds; the operations check it).
ShowScope = str
SCOPE_WORD = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

MAX_COMMAND_CHARS = 2000
# Item ids (`f3k9q`) and profile field ids (`location`, `preferred-name`).
ITEM_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
# `/memory link <code>` (memory.linking makes them).
LINK_CODE = re.compile(r"^[a-z0-9]{4,16}$")
# Change set ids (memory.changesets): 8 hex digits.
CHANGE_ID = re.compile(r"^[0-9a-f]{8}$")

USAGE = """\
/memory show [kind]                 what I remember about you, with ids (kind: e.g. facts)
/memory forget <id>                 forget one thing (ids are shown by `show`)
/memory forget all                  forget everything about you
/memory correct <text>              correct what I remember, e.g. `correct I moved to Lisbon`
/memory history                     what changed in your memory, and why
/memory undo                        take back what I just learned
/memory why <id>                    where and when I learned something, with a link
/memory export                      everything I remember about you, as JSON
/memory pause                       stop learning from your messages (recall still works)
/memory resume                      start learning again
/memory link                        a one-time code to join your account on another platform
/memory link <code>                 join this account with the one that gave the code
/memory unlink <platform>           separate that platform's account (its memory starts empty)
/memory help                        this help"""


@dataclass(frozen=True)
class MemoryCommand:
    action: Action
    scope: ShowScope = "all"
    item_id: str | None = None
    text: str | None = None
    confirmed: bool = False
    # show/export learn what is pending first; False reads what is stored at once (autocomplete,
    # which Discord gives 3 seconds).
    fresh: bool = True


def parse_command(raw: str | None) -> MemoryCommand:
    """Parse the text after `/memory`. Raises CommandError with the usage on bad input."""
    text = (raw or "").strip()
    if len(text) > MAX_COMMAND_CHARS:
        raise CommandError(
            f"That command is {len(text):,} characters long; the limit is "
            f"{MAX_COMMAND_CHARS:,}. Nothing was changed."
        )
    if text.lower().startswith("/memory"):
        text = text[len("/memory") :].strip()
    if not text:
        return MemoryCommand("help")
    verb, _, rest = text.partition(" ")
    verb = verb.lower()
    rest = rest.strip()
    if verb in ("show", "list", "ls"):
        return MemoryCommand("show", scope=_scope(rest))
    if verb in ("forget", "delete", "rm"):
        return _forget(rest)
    if verb == "forget-all":
        return _forget("all " + rest)
    if verb in ("correct", "fix"):
        if not rest:
            raise CommandError("Tell me what to correct, e.g. `/memory correct I live in Lisbon`.")
        return MemoryCommand("correct", text=rest)
    if verb == "link":
        return _link(rest)
    if verb == "unlink":
        if rest.lower() not in PLATFORMS:
            raise CommandError(
                f"Use `/memory unlink <platform>` with one of {', '.join(PLATFORMS)}."
            )
        return MemoryCommand("unlink", text=rest.lower())
    if verb == "undo":
        return _undo(rest)
    if verb == "why":
        return _why(rest)
    if verb in ("export", "pause", "resume", "help", "history") and not rest:
        return MemoryCommand(verb)  # type: ignore[arg-type]
    raise CommandError(f"I don't know `{_clip(text)}`.\n\nUsage:\n{USAGE}")


def _scope(rest: str) -> ShowScope:
    """The word after `show`; which kinds exist is configuration, so the operations check it."""
    value = rest.lower() or "all"
    if not SCOPE_WORD.match(value):
        raise CommandError(
            f"`show` takes a kind of memory, like profile or facts, not `{_clip(rest)}`."
        )
    return value


def _link(rest: str) -> MemoryCommand:
    code = rest.strip().lower()
    if not code:
        return MemoryCommand("link")
    if not LINK_CODE.match(code):
        raise CommandError(
            "That is not a link code. Codes look like `k3x9p2ab`; nothing was changed."
        )
    return MemoryCommand("link", text=code)


def _forget(rest: str) -> MemoryCommand:
    words = rest.lower().split()
    if not words:
        raise CommandError(
            "Which memory? Use `/memory forget <id>` with an id from `/memory show`, "
            "or `/memory forget all`."
        )
    if words[0] in ("all", "everything"):
        if len(words) == 1:
            return MemoryCommand("forget_all")
        if words[1:] == ["confirm"]:
            return MemoryCommand("forget_all", confirmed=True)
        raise CommandError("Use `/memory forget all` (then confirm) to forget everything.")
    if len(words) != 1 or not ITEM_ID.match(words[0]):
        raise CommandError(
            f"`{_clip(rest)}` is not a memory id. Ids look like `f3k9q`; `/memory show` lists them."
        )
    return MemoryCommand("forget", item_id=words[0])


def _undo(rest: str) -> MemoryCommand:
    """`undo` (the latest change) or `undo <change id>` (what an Undo button sends)."""
    if not rest:
        return MemoryCommand("undo")
    if not CHANGE_ID.match(rest.lower()):
        raise CommandError("Use `/memory undo` to take back what I just learned.")
    return MemoryCommand("undo", item_id=rest.lower())


def _why(rest: str) -> MemoryCommand:
    words = rest.lower().split()
    if len(words) != 1 or not ITEM_ID.match(words[0]):
        raise CommandError("Which memory? Use `/memory why <id>` with an id from `/memory show`.")
    return MemoryCommand("why", item_id=words[0])


def _clip(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    flat = flat.replace("`", "'")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
