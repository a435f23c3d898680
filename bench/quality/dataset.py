"""Benchmark data as the harness uses it, loaded from LongMemEval or LoCoMo files on disk.

Nothing is downloaded: the user gives the path of a file they have.

LongMemEval (Wu et al., ICLR 2025; https://github.com/xiaowu0162/LongMemEval, README "Dataset
Format"): a JSON list of instances with `question_id`, `question_type` (`single-session-user`,
`single-session-assistant`, `single-session-preference`, `temporal-reasoning`,
`knowledge-update`, `multi-session`; an id ending in `_abs` marks an abstention question),
`question`, `answer`, `question_date`, `haystack_session_ids`, `haystack_dates` and
`haystack_sessions` (lists of `{"role": "user"|"assistant", "content": ...}` turns). Dates look
like `2023/05/20 (Sat) 02:21` (`data/custom_history/sample_haystack_and_timestamp.py`).
This project's own files add two optional keys the public files lack: `haystack_audiences`
("dm" or "channel" per session; default "dm") and `question_audience` (default "dm").

LoCoMo (Maharana et al., ACL 2024; https://github.com/snap-research/locomo, `locomo10.json`):
a list of samples, each with `sample_id`, `conversation` (`speaker_a`, `speaker_b`,
`session_<n>` lists of `{"speaker", "dia_id", "text"}` and `session_<n>_date_time` like
`1:56 pm on 8 May, 2023`) and `qa` (`question`, `answer`, `evidence`, `category`). Categories
follow the count and the scoring in `task_eval/evaluation.py` (1 multi-hop, 2 temporal,
3 open-domain, 4 single-hop, 5 adversarial); category 5 is left out, as the LLM-judge runs
the issue's LoCoMo figures come from left it out (mem0ai/mem0 `evaluation/metrics/llm_judge.py`).
Each speaker is a person; the two talk in a shared channel; a question is asked by the
speaker it names (the first named, or `speaker_a`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

Audience = Literal["dm", "channel"]
ASSISTANT = "assistant"
LOCOMO_CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}


class DatasetError(ValueError):
    """The file is neither LongMemEval nor LoCoMo, or an entry is malformed."""


@dataclass(frozen=True)
class Turn:
    speaker: str  # a person's name, or ASSISTANT for the bot's own earlier answers
    text: str


@dataclass(frozen=True)
class Session:
    id: str
    at: datetime
    audience: Audience
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class History:
    """What a group of people said before the questions; replayed once for all of them."""

    id: str
    sessions: tuple[Session, ...]


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    answer: str
    at: datetime
    history: str
    asker: str
    audience: Audience = "dm"

    @property
    def abstention(self) -> bool:
        """LongMemEval marks questions with no answer in the history by an id ending `_abs`."""
        return self.id.endswith("_abs")


@dataclass(frozen=True)
class Dataset:
    name: str
    histories: dict[str, History]
    questions: list[Question]

    def select(self, types: Iterable[str] = (), limit: int = 0) -> Dataset:
        """Only questions of `types` (all if empty; "abstention" selects the `_abs` ones)."""
        wanted = set(types)
        chosen = [
            q
            for q in self.questions
            if not wanted or q.type in wanted or ("abstention" in wanted and q.abstention)
        ]
        if limit:
            chosen = chosen[:limit]
        used = {q.history for q in chosen}
        return Dataset(self.name, {k: v for k, v in self.histories.items() if k in used}, chosen)


def load(path: Path) -> Dataset:
    """Read a LongMemEval or LoCoMo JSON file; raises DatasetError for anything else."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: {exc}") from exc
    if not isinstance(raw, list) or not raw or not isinstance(raw[0], dict):
        raise DatasetError(f"{path}: expected a JSON list of objects")
    if "question_id" in raw[0]:
        return longmemeval(raw, path.stem)
    if "conversation" in raw[0] and "qa" in raw[0]:
        return locomo(raw, path.stem)
    raise DatasetError(f"{path}: neither LongMemEval nor LoCoMo")


# --- LongMemEval ---------------------------------------------------------------------------


def parse_longmemeval_date(text: str) -> datetime:
    """`2023/05/20 (Sat) 02:21` or `2023/05/20`, as UTC."""
    cleaned = re.sub(r"\s*\([A-Za-z]{3}\)", "", text.strip())
    for pattern in ("%Y/%m/%d %H:%M", "%Y/%m/%d"):
        try:
            return datetime.strptime(cleaned, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise DatasetError(f"unreadable LongMemEval date: {text!r}")


def longmemeval(entries: list[dict[str, Any]], name: str) -> Dataset:
    histories: dict[str, History] = {}
    questions: list[Question] = []
    for entry in entries:
        try:
            ids = [str(s) for s in entry["haystack_session_ids"]]
            dates = entry["haystack_dates"]
            audiences = entry.get("haystack_audiences") or ["dm"] * len(ids)
            sessions = tuple(
                Session(
                    id=session_id,
                    at=parse_longmemeval_date(date),
                    audience=_audience(audience),
                    turns=tuple(
                        Turn("user" if t["role"] == "user" else ASSISTANT, str(t["content"]))
                        for t in turns
                    ),
                )
                for session_id, date, audience, turns in zip(
                    ids, dates, audiences, entry["haystack_sessions"], strict=True
                )
            )
            # Questions over the very same sessions share one replay.
            key = _history_key([(s.id, s.audience) for s in sessions])
            histories.setdefault(key, History(key, sessions))
            questions.append(
                Question(
                    id=str(entry["question_id"]),
                    type=str(entry["question_type"]),
                    text=str(entry["question"]),
                    answer=str(entry["answer"]),
                    at=parse_longmemeval_date(str(entry["question_date"])),
                    history=key,
                    asker="user",
                    audience=_audience(entry.get("question_audience", "dm")),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"bad LongMemEval entry {entry.get('question_id')}: {exc}") from exc
    return Dataset(name, histories, questions)


def _audience(value: Any) -> Audience:
    if value not in ("dm", "channel"):
        raise DatasetError(f"audience must be 'dm' or 'channel', not {value!r}")
    return "dm" if value == "dm" else "channel"


def _history_key(parts: list[tuple[str, str]]) -> str:
    return "h" + hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:12]


# --- LoCoMo ----------------------------------------------------------------------------------


def parse_locomo_date(text: str) -> datetime:
    """`1:56 pm on 8 May, 2023`, as UTC."""
    try:
        return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)
    except ValueError as exc:
        raise DatasetError(f"unreadable LoCoMo date: {text!r}") from exc


def locomo(samples: list[dict[str, Any]], name: str) -> Dataset:
    histories: dict[str, History] = {}
    questions: list[Question] = []
    for sample in samples:
        sample_id = str(sample.get("sample_id") or f"conv{len(histories)}")
        conversation = sample["conversation"]
        speakers = (str(conversation["speaker_a"]), str(conversation["speaker_b"]))
        numbers = sorted(
            int(m.group(1))
            for key in conversation
            if (m := re.fullmatch(r"session_(\d+)", key)) and conversation[key]
        )
        sessions = tuple(
            Session(
                id=f"{sample_id}-s{n}",
                at=parse_locomo_date(conversation[f"session_{n}_date_time"]),
                audience="channel",
                turns=tuple(
                    Turn(str(t["speaker"]), str(t.get("text", "")))
                    for t in conversation[f"session_{n}"]
                ),
            )
            for n in numbers
        )
        if not sessions:
            continue
        histories[sample_id] = History(sample_id, sessions)
        asked_at = sessions[-1].at + timedelta(hours=1)
        for n, qa in enumerate(sample["qa"]):
            category = int(qa.get("category", 0))
            if category not in LOCOMO_CATEGORIES or "answer" not in qa:
                continue  # adversarial questions are left out (see the module docstring)
            text = str(qa["question"])
            questions.append(
                Question(
                    id=f"{sample_id}-q{n}",
                    type=LOCOMO_CATEGORIES[category],
                    text=text,
                    answer=str(qa["answer"]),
                    at=asked_at,
                    history=sample_id,
                    asker=_named(text, speakers),
                )
            )
    return Dataset(name, histories, questions)


def _named(question: str, speakers: tuple[str, str]) -> str:
    found = [(question.find(s), s) for s in speakers if s and s in question]
    return min(found)[1] if found else speakers[0]


def is_locomo_type(question_type: str) -> bool:
    return question_type in LOCOMO_CATEGORIES.values()
