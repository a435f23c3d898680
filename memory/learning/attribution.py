"""Which message of a learned batch a change came from: the one that shares the most words with it.

The model learns from several messages at once and does not say which one each change came
from; the words do. A change that shares no word with any message is put on the last one.
"""

from __future__ import annotations

from collections.abc import Sequence

from memory.agent.relevance import word_set
from memory.learning.pending import PendingMessage


def source_of(text: str, messages: Sequence[PendingMessage]) -> PendingMessage:
    """The message of `messages` (oldest first, at least one) that `text` most likely came from.

    Ties go to the latest message, so a fact repeated later is put on its last mention.
    Raises ValueError when `messages` is empty.
    """
    if not messages:
        raise ValueError("no messages to attribute a change to")
    wanted = word_set(text)
    best, best_score = messages[-1], 0
    for message in messages:
        score = len(wanted & word_set(message.text))
        if score >= best_score and score:
            best, best_score = message, score
    return best


def sources_of(text: str, messages: Sequence[PendingMessage]) -> list[PendingMessage]:
    """The messages of a batch a change may have come from: every one sharing a word with
    `text`, or the whole batch when none does (a paraphrase: better forget too much of the
    conversation than keep the words a forgotten memory came from)."""
    wanted = word_set(text)
    sharing = [m for m in messages if wanted & word_set(m.text)]
    return sharing or list(messages)
