"""A sample value for every argument of the /memory verbs (memory.commands.verbs.VERBS), so tests
can
run each verb on each platform. A new argument without a sample fails those tests (KeyError)."""

from __future__ import annotations

from memory.commands.verbs import Verb

SAMPLES = {
    "scope": "facts",
    "id": "zz9zz",  # well formed, and nobody has it
    "text": "I moved to Lisbon",
    "code": "abcd1234",  # well formed, never issued
    "platform": "console",
}


def sample_text(verb: Verb) -> str:
    """What a person types after `/memory` to use `verb` with every argument given."""
    return " ".join([verb.words, *(SAMPLES[a.name] for a in verb.arguments)])


def sample_options(verb: Verb) -> dict[str, str]:
    """The options of `verb`'s Discord subcommand, every argument given."""
    return {a.name: SAMPLES[a.name] for a in verb.arguments}
