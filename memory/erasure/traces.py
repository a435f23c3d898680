"""What history and Undo still hold of an item: the words of every version it had and the
messages they came from, so forgetting it reaches all of them, and so a request to forget
something no longer remembered (the model removed it on its own) can still find its words.

The same words may be kept under another id too (learned, removed or undone, then learned
again as a new item): forgetting reaches every history entry and Undo state that holds them,
whatever its id, matched as conversations are (memory.erasure.repeats).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from memory.agent.relevance import word_set
from memory.commands.history import NOT_A_MESSAGE, HistoryEntry
from memory.erasure.repeats import repeats_of
from memory.ids import field_id, field_name
from memory.learning.changesets import ChangeSet, ItemChange
from memory.learning.rules import asks_to_forget
from memory.schemas import SourceRef, StoredItem, merge_sources
from memory.storage.repository import MemoryRepository, UserMemory

# Marks history text puts around remembered words (memory.commands.undo, memory.learning.learner).
_UNDONE = " (undone)"
_RESTORED = "restored: "
_ARROW = " -> "


@dataclass(frozen=True)
class Traces:
    """The words (`texts`) an item's history entries and Undo states hold, every version of it,
    and the messages (`sources`) its history says changed it; `kind` is what one item of its
    kind is called (from its latest entry; "" with no entry)."""

    texts: tuple[str, ...] = ()
    sources: list[SourceRef] = field(default_factory=list)
    kind: str = ""
    # Where they are kept, to drop them (forget_traces): history entry keys, and the changes
    # kept for Undo as (change set id, item id).
    entries: frozenset[str] = frozenset()
    changes: frozenset[tuple[str, str]] = frozenset()
    # Every text matched (the items' own words and what is forgotten with them): earlier
    # values of other, live items that hold them go too (forget_traces).
    matched: tuple[str, ...] = ()


def entry_words(entry: HistoryEntry) -> tuple[str, ...]:
    """The remembered words in one history line: `location: Porto -> Lisbon` holds `Porto` and
    `Lisbon`, `restored: I keep bees` and `I keep bees (undone)` hold `I keep bees`;
    `(forgotten)` and (in older entries) a bare `(undone)` none."""
    text = entry.text.removesuffix(_UNDONE)
    if text.startswith("("):
        return ()
    label = field_name(entry.item_id).replace("_", " ") + ": "
    words: list[str] = []
    for part in text.removeprefix(_RESTORED).split(_ARROW):
        if part.startswith(label):
            part = part[len(label) :]
            if ", " in part:  # a list field's values, each a remembered word of its own
                words.extend(part.split(", "))
        words.append(part)
    return tuple(w for w in words if w)


def change_words(change: ItemChange) -> tuple[str, ...]:
    """The remembered words in one change kept for Undo: its before-state (an item with its
    earlier values, or a profile field's value), and what it left (its summary, or the value)."""
    words: list[str] = []
    for state in (change.before, change.after):
        if state is None:
            continue
        if "data" in state:
            words.extend(StoredItem.model_validate(state).remembered_texts())
        elif "value" in state:
            words.extend(_values(state["value"]))
    if change.after is not None and "value" not in change.after:
        words.append(change.summary)  # an item's data: its line says what it held
    return tuple(w for w in words if w)


def _values(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v]


async def traces_of(
    repository: MemoryRepository,
    user_key: str,
    item_ids: set[str],
    words: Iterable[str] = (),
) -> Traces:
    """What the history and the change sets of `user_key` hold about the items `item_ids`, and
    every other history entry or Undo change holding their words or `words` (what is forgotten
    with them), whole and case-insensitive, under any id. `texts` are the items' own words;
    `sources` the messages of every trace found, which go with them."""
    history = await repository.history(user_key)
    sets = await repository.change_sets(user_key)
    own = _collect(list(history.values()), sets, item_ids)
    pattern = repeats_of((*words, *own.texts))

    def holds(texts: Iterable[str]) -> bool:
        return pattern is not None and any(pattern.search(t) for t in texts)

    entries = {
        key for key, entry in history.items() if entry.item_id in item_ids or holds([entry.text])
    }
    sources = list(own.sources)
    for key in sorted(entries):
        entry = history[key]
        if (
            entry.item_id not in item_ids
            and entry.conversation
            and entry.cause not in NOT_A_MESSAGE
        ):
            sources = merge_sources(sources, [SourceRef(**_ref(entry))])
    changes: set[tuple[str, str]] = set()
    for change_set in sets:
        for change in change_set.changes:
            if change.item_id in item_ids or holds((*change_words(change), change.summary)):
                changes.add((change_set.id, change.item_id))
                sources = merge_sources(sources, _state_sources(change))
    matched = tuple(dict.fromkeys((*words, *own.texts)))
    return Traces(own.texts, sources, own.kind, frozenset(entries), frozenset(changes), matched)


async def forget_traces(repository: MemoryRepository, user_key: str, traces: Traces) -> None:
    """Drop the history entries and Undo changes `traces` found, and the earlier values of
    live items holding its words (call under the user lock)."""
    await repository.drop_traces(user_key, traces.entries, traces.changes)
    await forget_earlier(repository, user_key, traces.matched)


async def forget_earlier(
    repository: MemoryRepository, user_key: str, words: Iterable[str]
) -> list[str]:
    """Take every earlier value holding `words` (whole, case-insensitive) out of the items of
    `user_key` still remembered (`StoredItem.previous`: what a fact said before a later message
    changed it), and return those values. The items themselves stay."""
    pattern = repeats_of(tuple(words))
    if pattern is None:
        return []
    memory = await repository.load(user_key)
    dropped: list[str] = []
    for kind in memory.kinds:
        for key, item in memory.of(kind.name).items():
            gone = [e.text for e in item.previous if pattern.search(e.text)]
            if not gone:
                continue
            kept = [e for e in item.previous if not pattern.search(e.text)]
            await repository.put(
                user_key, kind.name, key, item.model_copy(update={"previous": kept})
            )
            dropped.extend(gone)
    return dropped


def spelled_out(requests: Iterable[str], candidates: dict[str, tuple[str, ...]]) -> list[str]:
    """The candidates every word of which one request says (memory.agent.relevance.words):
    stricter than `named_by`, for values of items still remembered, so "forget that I keep
    Zibbees" never takes "I keep Hoxcats" (sharing "keep") from a live fact."""
    asked = [word_set(r) for r in requests]
    return [
        name
        for name, texts in candidates.items()
        if any((need := word_set(" ".join(texts))) and need <= request for request in asked)
    ]


def earlier_candidates(memory: UserMemory) -> dict[str, tuple[str, ...]]:
    """What remembered items said before a later message changed them, as request candidates
    (`earlier:<item id>:<n>` -> that value), for a request to forget one of them."""
    found: dict[str, tuple[str, ...]] = {}
    for kind in memory.kinds:
        for key, item in memory.of(kind.name).items():
            for n, earlier in enumerate(item.previous):
                found[f"earlier:{key}:{n}"] = (earlier.text,)
    return found


def earlier_field_values(
    memory: UserMemory, history: Iterable[HistoryEntry]
) -> dict[str, tuple[str, ...]]:
    """Values a profile field held before its current one, which only history keeps (a city
    the person lived in before), as request candidates (`field:<id>:<value>` -> that value).
    The current values of the field, in any audience's document, are never candidates."""
    current: dict[str, set[str]] = {}
    for kind in memory.kinds.profiles:
        for document in memory.of(kind.name).values():
            for name, value in document.data.items():
                current.setdefault(field_id(name), set()).update(_values(value))
    found: dict[str, tuple[str, ...]] = {}
    for entry in history:
        if entry.item_id not in current:
            continue
        for value in entry_words(entry):
            if value not in current[entry.item_id]:
                found[f"field:{entry.item_id}:{value}"] = (value,)
    return found


def _state_sources(change: ItemChange) -> list[SourceRef]:
    """The messages an item kept in an Undo state was learned from."""
    if change.before is None or "data" not in change.before:
        return []
    item = StoredItem.model_validate(change.before)
    where = item.provenance
    if not where.message_id or where.message_id in NOT_A_MESSAGE:
        return item.sources
    last = SourceRef(conversation=where.conversation, message_id=where.message_id)
    return merge_sources(item.sources, [last])


def _collect(history: list[HistoryEntry], sets: list[ChangeSet], item_ids: set[str]) -> Traces:
    texts: list[str] = []
    sources: list[SourceRef] = []
    kind = ""
    for entry in history:
        if entry.item_id not in item_ids:
            continue
        texts.extend(entry_words(entry))
        kind = entry.kind
        if entry.conversation and entry.cause not in NOT_A_MESSAGE:
            sources = merge_sources(sources, [SourceRef(**_ref(entry))])
    for change_set in sets:
        for change in change_set.changes:
            if change.item_id in item_ids:
                texts.extend(change_words(change))
    return Traces(tuple(dict.fromkeys(texts)), sources, kind)


def _ref(entry: HistoryEntry) -> dict[str, str]:
    return {"conversation": entry.conversation or "", "message_id": entry.cause}


def live_ids(memory: UserMemory) -> set[str]:
    """The ids of what is remembered now: collection items and profile fields with a value."""
    ids = set(memory.items())
    for kind in memory.kinds.profiles:
        for document in memory.of(kind.name).values():
            ids.update(
                name.replace("_", "-")
                for name, value in document.data.items()
                if value not in (None, "", [])
            )
    return ids


async def no_longer_remembered(
    repository: MemoryRepository, user_key: str, memory: UserMemory
) -> dict[str, Traces]:
    """Items that history or Undo still hold words of but `memory` no longer has (the model
    removed them, an Undo took them back), with those words."""
    history = list((await repository.history(user_key)).values())
    sets = await repository.change_sets(user_key)
    ids = {e.item_id for e in history} | {c.item_id for s in sets for c in s.changes}
    found: dict[str, Traces] = {}
    for item_id in sorted(ids - live_ids(memory)):
        traces = _collect(history, sets, {item_id})
        if traces.texts:
            found[item_id] = traces
    return found


def named_by(
    requests: Iterable[str], candidates: dict[str, tuple[str, ...]], spoken_for: Iterable[str] = ()
) -> list[str]:
    """The candidates (id -> their words) a request to forget names: those sharing the most
    words with it, when that is two words or more, or half of a candidate's words. Words of
    `spoken_for` (what the same request already erased) and the request's own forget-words do
    not count, so "forget that I keep bees" names nothing more once "I keep bees" itself was
    removed.

    Matching is by words (memory.agent.relevance.words: folded, stopwords dropped); when in doubt it
    names, as erasure does elsewhere (memory.learning.rules.asks_to_forget).
    """
    asked = set().union(*(word_set(r) for r in requests)) - set().union(
        *(word_set(t) for t in spoken_for)
    )
    asked = {w for w in asked if not asks_to_forget([w]) and w not in _REQUEST_WORDS}
    scores: dict[str, tuple[int, float]] = {}
    for item_id, texts in candidates.items():
        own = set().union(*(word_set(t) for t in texts))
        if own and asked & own:
            scores[item_id] = (len(asked & own), len(asked & own) / len(own))
    best = max(scores.values(), default=(0, 0.0))
    if best[0] < 2 and best[1] < 0.5:
        return []
    return [item_id for item_id, score in scores.items() if score == best]


# Words of a request to forget that name no memory.
_REQUEST_WORDS = frozenset(
    {"please", "remember", "thing", "things", "anymore", "any", "more", "know", "need", "also"}
)
