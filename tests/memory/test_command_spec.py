"""The /memory verbs are declared once (memory.commands.verbs.VERBS); the text parser, the usage and
the help are built from that declaration."""

from __future__ import annotations

import pytest

from memory.commands.results import ConfirmForgetAll, HelpResult
from memory.commands.verbs import (
    HELP_CHARS,
    USAGE,
    VERBS,
    Verb,
    forget_all_question,
    memory_id,
    parse_command,
    usage_hint,
)
from memory.errors import CommandError
from tests.command_samples import sample_text


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v.name)
def test_every_verb_parses_as_typed_and_by_its_name(verb: Verb) -> None:
    assert parse_command(sample_text(verb)).action == verb.action
    assert parse_command(f"/memory {sample_text(verb)}").action == verb.action
    for alias in verb.aliases:
        typed = sample_text(verb).replace(verb.words, alias, 1)
        assert parse_command(typed).action == verb.action


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v.name)
def test_every_verb_is_in_the_usage_the_help_and_the_hint(verb: Verb) -> None:
    line = next(line for line in USAGE.splitlines() if line.startswith(verb.signature() + " "))
    assert line.endswith(verb.help)
    assert line in HelpResult().as_text()
    assert verb.signature().removeprefix("/memory ") in usage_hint().split(" | ")
    # Discord refuses longer descriptions (memory.commands.verbs.HELP_CHARS).
    assert len(verb.help) <= HELP_CHARS
    assert all(len(argument.help) <= HELP_CHARS for argument in verb.arguments)


def test_names_and_typed_words_are_unique() -> None:
    words = [w for verb in VERBS for w in (verb.name, *verb.aliases)]
    assert len(words) == len(set(words))
    assert len({verb.action for verb in VERBS}) == len(VERBS)


def test_an_unknown_verb_gets_the_usage() -> None:
    with pytest.raises(CommandError) as refused:
        parse_command("remember everything")
    assert "I don't know `remember everything`" in refused.value.message
    assert USAGE in refused.value.message
    with pytest.raises(CommandError, match="I don't know `export now`"):
        parse_command("export now")


def test_the_forget_all_question_is_the_declared_one() -> None:
    asked = ConfirmForgetAll({"facts": 2, "todos": 1})
    assert asked.question() == forget_all_question(3)
    assert "(3 items)" in asked.question() and "cannot be undone" in asked.question()
    assert asked.as_text().startswith(asked.question())
    assert asked.as_text().endswith("Send `/memory forget all confirm` to go ahead.")


def test_memory_ids_are_checked_once() -> None:
    assert memory_id(" F3k9Q ") == "f3k9q"
    assert memory_id("preferred-name") == "preferred-name"
    for bad in ("", "x", "two words", "a" * 41, "`drop`"):
        with pytest.raises(CommandError, match="is not a memory id"):
            memory_id(bad)
    with pytest.raises(CommandError, match="is not a memory id"):
        parse_command("why two words")
    with pytest.raises(CommandError, match="is not a memory id"):
        parse_command("forget two words")
