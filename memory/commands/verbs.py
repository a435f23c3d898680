"""The /memory verbs, declared once for every platform (VERBS), and the parsing of free text into
a MemoryCommand, with clear refusals."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

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
PlatformName = Literal["slack", "discord", "console"]
PLATFORMS: tuple[PlatformName, ...] = get_args(PlatformName)
# "all", or a memory kind's name, item name or alias (memory.kinds; the operations check it).
ShowScope = str
SCOPE_WORD = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

MAX_COMMAND_CHARS = 2000
# Item ids (`f3k9q`) and profile field ids (`location`, `preferred-name`).
ITEM_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
# `/memory link <code>` (memory.accounts.linking makes them).
LINK_CODE = re.compile(r"^[a-z0-9]{4,16}$")
# Change set ids (memory.learning.changesets): 8 hex digits.
CHANGE_ID = re.compile(r"^[0-9a-f]{8}$")
# Discord's limit for a command's or an option's description, in characters
# (https://discord.com/developers/docs/interactions/application-commands#application-command-object).
HELP_CHARS = 100


@dataclass(frozen=True)
class Argument:
    """One argument of a /memory verb: its name (a Discord option name, the placeholder in
    the usage), a help line of at most HELP_CHARS, whether it must be given, and the only
    values it takes when it has a fixed set."""

    name: str
    help: str
    required: bool = True
    choices: tuple[str, ...] = ()

    def usage(self) -> str:
        """`<id>` when required, `[code]` when not, `[a|b|c]` for an optional fixed set."""
        shown = "|".join(self.choices) if self.choices and not self.required else self.name
        return f"<{shown}>" if self.required else f"[{shown}]"


@dataclass(frozen=True)
class Verb:
    """One /memory verb, declared once for every platform: `name` is the Discord subcommand
    and the word typed after `/memory` (`typed` when that differs, e.g. "forget all"),
    `aliases` are other words accepted in text, `help` is its line in every help text (at most
    HELP_CHARS), and `confirmation` the question asked before it acts, if it asks."""

    name: str
    action: Action
    help: str
    arguments: tuple[Argument, ...] = ()
    typed: str = ""
    aliases: tuple[str, ...] = ()
    confirmation: str | None = None

    @property
    def words(self) -> str:
        """What is typed after `/memory` (the console, Slack)."""
        return self.typed or self.name

    def signature(self, words: str | None = None) -> str:
        """`/memory why <id>`; `words` replaces the typed words (Discord's `forget-all`)."""
        parts = [words or self.words, *(argument.usage() for argument in self.arguments)]
        return "/memory " + " ".join(parts)

    def argument(self, name: str) -> Argument:
        """The argument called `name`; raises KeyError when the verb has none."""
        for argument in self.arguments:
            if argument.name == name:
                return argument
        raise KeyError(name)


_ID_HELP = "The id from /memory show"
VERBS: tuple[Verb, ...] = (
    Verb(
        "show",
        "show",
        "What I remember about you, with ids",
        (Argument("scope", "Show one kind only, e.g. facts", required=False),),
        aliases=("list", "ls"),
    ),
    Verb(
        "forget",
        "forget",
        "Forget one thing (ids are shown by `show`)",
        (Argument("id", _ID_HELP + " (start typing to search)"),),
        aliases=("delete", "rm"),
    ),
    Verb(
        "forget-all",
        "forget_all",
        "Forget everything about you (asks first)",
        typed="forget all",
        confirmation=(
            "This deletes everything I remember about you ({total} items) and your DM history "
            "with me. It cannot be undone."
        ),
    ),
    Verb(
        "correct",
        "correct",
        "Correct what I remember, e.g. `correct I moved to Lisbon`",
        (Argument("text", "What is true now, e.g. 'I moved to Lisbon'"),),
        aliases=("fix",),
    ),
    Verb("history", "history", "What changed in your memory, and why"),
    Verb("undo", "undo", "Take back what I just learned"),
    Verb(
        "why",
        "why",
        "Where and when I learned something, with a link",
        (Argument("id", _ID_HELP),),
    ),
    Verb("export", "export", "Everything I remember about you, as JSON"),
    Verb("pause", "pause", "Stop learning from your messages (recall still works)"),
    Verb("resume", "resume", "Start learning from your messages again"),
    Verb(
        "link",
        "link",
        "A one-time code to join your account on another platform, or use one",
        (
            Argument(
                "code", "The code /memory link gave you on your other platform", required=False
            ),
        ),
    ),
    Verb(
        "unlink",
        "unlink",
        "Separate that platform's account (its memory starts empty)",
        (Argument("platform", "Its account starts again with an empty memory", choices=PLATFORMS),),
    ),
    Verb("help", "help", "What /memory can do"),
)
VERB = {verb.name: verb for verb in VERBS}
VERB_OF_ACTION = {verb.action: verb for verb in VERBS}

_WIDTH = max(len(verb.signature()) for verb in VERBS) + 2
USAGE = "\n".join(f"{verb.signature():<{_WIDTH}}{verb.help}" for verb in VERBS)


def usage_hint() -> str:
    """Slack's one-line usage hint for the slash command (slack-app-manifest.yml holds it):
    `show [scope] | forget <id> | forget all | …`."""
    return " | ".join(verb.signature().removeprefix("/memory ") for verb in VERBS)


def forget_all_question(total: int) -> str:
    """The question asked before forget all deletes anything; `total` counts the items."""
    confirmation = VERB_OF_ACTION["forget_all"].confirmation
    assert confirmation is not None  # declared above
    return confirmation.format(total=total)


def memory_id(typed: str) -> str:
    """The item id in `typed` (trimmed, lower case). Raises CommandError when it is not one."""
    item = typed.strip().lower()
    if not ITEM_ID.match(item):
        raise CommandError(
            f"`{_clip(typed)}` is not a memory id. Ids look like `f3k9q`; "
            "`/memory show` lists yours."
        )
    return item


@dataclass(frozen=True)
class MemoryCommand:
    """One parsed /memory command, whatever platform it came from. `action` is the verb; `scope`
    what `show` lists (a kind's name, item name or alias, or "all"); `item_id` the id `forget`,
    `why` and `undo` act on; `text` what `correct` says; `confirmed` whether `forget all` was
    confirmed. Built by parse_command (text) or by an adapter from a platform's own
    command options."""

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
    word, _, rest = text.partition(" ")
    verb = _BY_WORD.get(word.lower())
    if verb is None:
        raise CommandError(f"I don't know `{_clip(text)}`.\n\nUsage:\n{USAGE}")
    return _PARSERS[verb.action](rest.strip(), text)


def _scope(rest: str) -> ShowScope:
    """The word after `show`; which kinds exist is configuration, so the operations check it."""
    value = rest.lower() or "all"
    if not SCOPE_WORD.match(value):
        raise CommandError(
            f"`show` takes `all` or the name of a kind of memory I keep, not `{_clip(rest)}`."
        )
    return value


def _show(rest: str, _text: str) -> MemoryCommand:
    return MemoryCommand("show", scope=_scope(rest))


def _correct(rest: str, _text: str) -> MemoryCommand:
    if not rest:
        raise CommandError("Tell me what to correct, e.g. `/memory correct I live in Lisbon`.")
    return MemoryCommand("correct", text=rest)


def _link(rest: str, _text: str) -> MemoryCommand:
    code = rest.strip().lower()
    if not code:
        return MemoryCommand("link")
    if not LINK_CODE.match(code):
        raise CommandError(
            "That is not a link code. Codes look like `k3x9p2ab`; nothing was changed."
        )
    return MemoryCommand("link", text=code)


def _unlink(rest: str, _text: str) -> MemoryCommand:
    if rest.lower() not in PLATFORMS:
        raise CommandError(f"Use `/memory unlink <platform>` with one of {', '.join(PLATFORMS)}.")
    return MemoryCommand("unlink", text=rest.lower())


def _forget(rest: str, _text: str) -> MemoryCommand:
    words = rest.lower().split()
    if not words:
        raise CommandError(
            "Which memory? Use `/memory forget <id>` with an id from `/memory show`, "
            "or `/memory forget all`."
        )
    if words[0] in ("all", "everything"):
        return _forget_all(" ".join(words[1:]), _text)
    if len(words) != 1:
        memory_id(rest)  # raises: more than one word is no id
    return MemoryCommand("forget", item_id=memory_id(words[0]))


def _forget_all(rest: str, _text: str) -> MemoryCommand:
    """`forget all` asks; `forget all confirm` (what the confirm button sends) deletes."""
    words = rest.lower().split()
    if not words:
        return MemoryCommand("forget_all")
    if words == ["confirm"]:
        return MemoryCommand("forget_all", confirmed=True)
    raise CommandError("Use `/memory forget all` (then confirm) to forget everything.")


def _undo(rest: str, _text: str) -> MemoryCommand:
    """`undo` (the latest change) or `undo <change id>` (what an Undo button sends)."""
    if not rest:
        return MemoryCommand("undo")
    if not CHANGE_ID.match(rest.lower()):
        raise CommandError("Use `/memory undo` to take back what I just learned.")
    return MemoryCommand("undo", item_id=rest.lower())


def _why(rest: str, _text: str) -> MemoryCommand:
    if not rest.strip():
        raise CommandError("Which memory? Use `/memory why <id>` with an id from `/memory show`.")
    return MemoryCommand("why", item_id=memory_id(rest))


def _bare(action: Action) -> Callable[[str, str], MemoryCommand]:
    """A verb without arguments: anything after it is refused with the usage."""

    def parse(rest: str, text: str) -> MemoryCommand:
        if rest:
            raise CommandError(f"I don't know `{_clip(text)}`.\n\nUsage:\n{USAGE}")
        return MemoryCommand(action)

    return parse


# How the text after each verb becomes a command (tests check every verb has one).
_PARSERS: dict[Action, Callable[[str, str], MemoryCommand]] = {
    "show": _show,
    "forget": _forget,
    "forget_all": _forget_all,
    "correct": _correct,
    "link": _link,
    "unlink": _unlink,
    "undo": _undo,
    "why": _why,
    **{action: _bare(action) for action in ("history", "export", "pause", "resume", "help")},
}
_BY_WORD = {word: verb for verb in VERBS for word in (verb.name, *verb.aliases)}


def _clip(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    flat = flat.replace("`", "'")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
