"""Which memories go into the prompt: a lexical ranking that needs nothing extra, within budgets."""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable

from memory.schemas import StoredItem

WORD = re.compile(r"[a-z0-9][a-z0-9'\-]+")
STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "i",
        "me",
        "my",
        "mine",
        "you",
        "your",
        "we",
        "our",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "not",
        "no",
        "so",
        "as",
        "by",
        "from",
        "what",
        "who",
        "how",
        "when",
        "where",
        "which",
        "can",
        "could",
        "would",
        "should",
        "will",
        "just",
        "about",
        "into",
        "than",
        "then",
        "there",
        "their",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "him",
        "up",
        "out",
        "if",
    ]
)


def words(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOPWORDS]


@functools.lru_cache(maxsize=100_000)
def word_set(text: str) -> frozenset[str]:
    """Cached: the same memories are ranked on every message."""
    return frozenset(words(text))


def rank(
    query: str,
    items: dict[str, StoredItem],
    *,
    limit: int,
    max_chars: int,
    similarity: dict[str, float] | None = None,
) -> list[tuple[str, StoredItem]]:
    """Best matches first (ties: most recent), at most `limit` items and `max_chars` of text.

    With `similarity` (embedding scores by key) items are ordered by it; items without a score
    (stored before embeddings were configured) fall back to the lexical score after them.
    """
    if not items:
        return []
    if similarity:
        ordered = sorted(
            items.items(),
            key=lambda kv: (kv[0] in similarity, similarity.get(kv[0], 0.0), kv[1].updated_at),
            reverse=True,
        )
        return list(_within_budget(ordered, limit, max_chars))
    query_words = set(words(query))
    documents = {key: word_set(item.text()) for key, item in items.items()}
    frequency: Counter[str] = Counter(w for doc in documents.values() for w in doc)
    total = len(documents)

    def score(key: str) -> float:
        shared = query_words & documents[key]
        return sum(math.log(1 + total / frequency[w]) for w in shared)

    ordered = sorted(items.items(), key=lambda kv: (score(kv[0]), kv[1].updated_at), reverse=True)
    return list(_within_budget(ordered, limit, max_chars))


def _within_budget(
    ordered: Iterable[tuple[str, StoredItem]], limit: int, max_chars: int
) -> Iterable[tuple[str, StoredItem]]:
    used = 0
    for count, (key, item) in enumerate(ordered):
        size = len(item.text())
        if count >= limit or used + size > max_chars:
            return
        used += size
        yield key, item
