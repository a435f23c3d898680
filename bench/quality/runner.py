"""Replaying each history through the real engine, then asking and judging its questions.

One engine on one database for the whole run; each person of each history is a user of
their own (`bench:<history>-<speaker>`), so histories never see each other's memory. A
history is replayed once (memory.learning.replay: every turn recorded at its original date, learned
six messages at a time as a live conversation would be), then each of its questions is asked
in a fresh conversation of its own, as the person it names, at the question's date.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from langchain_core.language_models import BaseChatModel

from bench.quality.dataset import ASSISTANT, Dataset, History, Question
from bench.quality.judge import judge
from bench.quality.meter import PHASE
from memory.engine import MemoryEngine
from memory.identity import ConversationRef, UserRef
from memory.learning.replay import PastTurn, replay
from memory.messages import ChatMessage

PLATFORM = "bench"
LEARN_EVERY = 6  # the engine's default `every_messages`: what a live conversation triggers


@dataclass
class Answered:
    question: Question
    response: str
    correct: bool
    judge_said: str
    failed: bool = False


@dataclass
class RunResult:
    answered: list[Answered] = field(default_factory=list)
    ingested: int = 0  # person messages recorded (each with the answer that followed, if any)
    wall_seconds: float = 0.0


def slug(text: str, limit: int = 60) -> str:
    """An id safe for store namespaces and thread ids (see memory.identity)."""
    return re.sub(r"[^A-Za-z0-9_\-]+", "-", text).strip("-")[:limit] or "x"


def person(history: History, speaker: str) -> UserRef:
    return UserRef(PLATFORM, f"{slug(history.id, 40)}-{slug(speaker, 40)}", display_name=speaker)


def past_turns(history: History) -> list[PastTurn]:
    """Each person's messages, with the assistant's answer that followed (LongMemEval)."""
    turns: list[PastTurn] = []
    for session in history.sessions:
        conversation = ConversationRef(
            f"{PLATFORM}:{slug(history.id, 40)}:{slug(session.id, 120)}",
            session.audience,
            PLATFORM,
        )
        for n, turn in enumerate(session.turns):
            if turn.speaker == ASSISTANT:
                continue  # recorded as the reply to the message before it
            following = session.turns[n + 1] if n + 1 < len(session.turns) else None
            reply = following.text if following and following.speaker == ASSISTANT else ""
            turns.append(
                PastTurn(
                    user=person(history, turn.speaker),
                    conversation=conversation,
                    text=turn.text,
                    message_id=f"{slug(session.id, 120)}-{n}",
                    # Turns keep their order inside a session that has a single timestamp.
                    sent_at=session.at + timedelta(seconds=n),
                    reply=reply,
                )
            )
    return turns


async def ask(
    engine: MemoryEngine, judge_model: BaseChatModel, history: History, question: Question
) -> Answered:
    message = ChatMessage(
        user=person(history, question.asker),
        conversation=ConversationRef(
            f"{PLATFORM}:{slug(history.id, 40)}:q:{slug(question.id, 120)}",
            question.audience,
            PLATFORM,
        ),
        text=question.text,
        message_id=slug(question.id, 120),
        sent_at=question.at,
    )
    PHASE.set(f"answer:{question.id}")
    reply = await engine.reply(message)
    PHASE.set(f"judge:{question.id}")
    correct, said = await judge(judge_model, question, reply.text)
    return Answered(question, reply.text, correct and not reply.failed, said, reply.failed)


async def run(
    engine: MemoryEngine,
    judge_model: BaseChatModel,
    dataset: Dataset,
    *,
    concurrency: int = 4,
    progress: Callable[[Answered], Awaitable[None]] | None = None,
) -> RunResult:
    """Replay every history and answer every question; `concurrency` histories at a time."""
    result = RunResult()
    started = time.perf_counter()
    gate = asyncio.Semaphore(max(1, concurrency))
    by_history: dict[str, list[Question]] = {}
    for question in dataset.questions:
        by_history.setdefault(question.history, []).append(question)

    async def one(history: History) -> None:
        async with gate:
            PHASE.set(f"ingest:{history.id}")
            turns = past_turns(history)
            await replay(engine, turns, batch=LEARN_EVERY)
            result.ingested += len(turns)
            for question in by_history[history.id]:
                answered = await ask(engine, judge_model, history, question)
                result.answered.append(answered)
                if progress is not None:
                    await progress(answered)

    await asyncio.gather(*(one(dataset.histories[key]) for key in by_history))
    order = {q.id: n for n, q in enumerate(dataset.questions)}
    result.answered.sort(key=lambda a: order[a.question.id])
    result.wall_seconds = time.perf_counter() - started
    return result
