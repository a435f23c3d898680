"""Finding a forgotten memory said again: its words, whole and case-insensitive."""

from __future__ import annotations

import re

# Shorter texts ("UK", "42") would match unrelated words.
MIN_NEEDLE = 3


def repeats_of(texts: tuple[str, ...]) -> re.Pattern[str] | None:
    """A pattern finding any of `texts` as whole words, case-insensitively; None for none.
    Texts shorter than MIN_NEEDLE are left out: "UK" or "42" would match unrelated words."""
    kept = sorted({t.strip() for t in texts if len(t.strip()) >= MIN_NEEDLE}, key=len)
    if not kept:
        return None
    alternatives = "|".join(re.escape(t) for t in reversed(kept))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
