"""Learning from a conversation that already happened: past turns recorded at their own dates.

Used to load a history into memory (an import, or a benchmark such as LongMemEval) through the
same path a live message takes: each turn is recorded as a pending message with the time it
was said and the assistant's answer, then the engine's learner runs, a few messages at a time
as the debounced scheduler would, under the user lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from memory.agent.graph import pending_key
from memory.engine import MemoryEngine
from memory.identity import ConversationRef, UserRef
from memory.learning.pending import PendingMessage
from memory.messages import ChatMessage


@dataclass(frozen=True)
class PastTurn:
    """One thing a person said (and what the assistant answered, "" if nothing) at `sent_at`."""

    user: UserRef
    conversation: ConversationRef
    text: str
    message_id: str
    sent_at: datetime
    reply: str = ""


async def replay(engine: MemoryEngine, turns: Sequence[PastTurn], *, batch: int = 0) -> int:
    """Learn from `turns` in order; returns how many were recorded.

    Turns are learned `batch` at a time per person and conversation (default: the engine's
    `every_messages`, what a live conversation would trigger), and whenever the conversation
    changes, so one extraction never mixes two conversations' turns or audiences.
    A person whose learning is paused learns nothing, as for live messages.
    """
    size = batch or engine.config.every_messages
    waiting: dict[str, tuple[str, int]] = {}  # user key -> (conversation, turns recorded)
    for turn in turns:
        user_key = turn.user.key
        current = waiting.get(user_key)
        if current is not None and current[0] != turn.conversation.key:
            await engine.learn_now(user_key)
            current = None
        message = ChatMessage(
            user=turn.user,
            conversation=turn.conversation,
            text=turn.text,
            message_id=turn.message_id,
            sent_at=turn.sent_at,
        )
        pending = PendingMessage.from_message(message, turn.reply)
        key = pending_key(turn.conversation.key, turn.message_id)
        await engine.repository.add_pending(user_key, key, pending)
        count = (current[1] if current else 0) + 1
        waiting[user_key] = (turn.conversation.key, count)
        if count >= size:
            await engine.learn_now(user_key)
            waiting.pop(user_key)
    for user_key in waiting:
        await engine.learn_now(user_key)
    return len(turns)
