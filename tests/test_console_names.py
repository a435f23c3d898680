"""Console names: any name a person can type works, and distinct names are distinct people."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.console.normalize import console_user, name_id
from memory.errors import IdentityError

_ESCAPE = re.compile(r"((?:_[0-9a-f]{2})+)")


def read_back(user_id: str) -> str:
    """The name a key part was made from: the proof that `name_id` joins no two names."""
    parts = _ESCAPE.split(user_id)
    return "".join(
        bytes.fromhex(p.replace("_", "")).decode() if i % 2 else p for i, p in enumerate(parts)
    )


@settings(max_examples=2_000, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_every_name_reads_back_exactly(name: str) -> None:
    exact = unicodedata.normalize("NFC", name)
    assert read_back(name_id(name)) == exact


def test_names_that_used_to_fold_together_are_different_people() -> None:
    names = ["Dana.Lee", "dana lee", "dana-lee", "Dana Lee", "José", "Jose", "JOSÉ", "王芳"]
    keys = {console_user(n).key for n in names}
    assert len(keys) == len(names)
    # The same letters typed decomposed are the same name.
    assert console_user("Jose\u0301").key == console_user("José").key
    assert console_user("  王芳 ").name == "王芳"


def test_a_name_needs_a_printable_character_and_a_bounded_length() -> None:
    for bad in ("", "   ", "a\x00b", "王" * 60):
        with pytest.raises(IdentityError):
            console_user(bad)
