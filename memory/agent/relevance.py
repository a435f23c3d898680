"""Which memories go into the prompt: a lexical ranking that needs nothing extra, within budgets."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from memory.schemas import StoredItem

# A word in any script: letters and digits (Unicode), with inner apostrophes or hyphens.
WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")
# Scripts written without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Myanmar,
# Khmer): a run of them is indexed as overlapping character pairs, the usual stand-in for
# word segmentation in search engines (e.g. Lucene's CJKBigramFilter).
UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]+"
)
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


def fold(text: str) -> str:
    """Case and accents folded away, compatibility forms unified: `Café` and `cafe`,
    `Γάτα` and `γατα`, full-width `Ｔｏｋｙｏ` and `tokyo` compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare)


def words(text: str) -> list[str]:
    """The terms a text is ranked by: folded words of two or more characters (stopwords
    dropped) in spaced scripts, and character pairs in scripts written without spaces.

    `words("café München Αθήνα 東京 naïve")` is `["cafe", "munchen", "αθηνα", "東京", "naive"]`.
    """
    terms: list[str] = []
    for word in WORD.findall(fold(text)):
        last = 0
        for run in UNSPACED.finditer(word):
            terms.extend(_spaced(word[last : run.start()]))
            chars = run.group()
            terms.extend([chars] if len(chars) == 1 else _pairs(chars))
            last = run.end()
        terms.extend(_spaced(word[last:]))
    return terms


def _spaced(word: str) -> list[str]:
    return [word] if len(word) >= 2 and word not in STOPWORDS else []


def _pairs(chars: str) -> list[str]:
    return [chars[i : i + 2] for i in range(len(chars) - 1)]


@functools.lru_cache(maxsize=100_000)
def word_set(text: str) -> frozenset[str]:
    """`words(text)` as a set; cached (up to 100,000 texts), since the same memories are
    ranked on every message."""
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

    Returns (key, item) pairs; the list stops at the first item that would exceed either
    budget (`max_chars` counts the characters of `item.text()`). Lexically, an item scores
    the sum over the query terms it shares of log(1 + N / df): N items, df of them holding
    the term (an IDF weight, so rare shared words count most).
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
