"""The benchmark workload: who talks, in which conversation, and what they say."""

from __future__ import annotations

from memory.identity import ConversationRef, UserRef
from memory.messages import ChatMessage

NAMES = ("Alice", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Joana")
TOPICS = (
    "gardening",
    "jazz",
    "climbing",
    "rust",
    "chess",
    "baking",
    "sailing",
    "poetry",
    "cycling",
    "astronomy",
)
FACTS = (
    "keep bees on the roof",
    "work on the payments team",
    "have two cats called Miso and Tofu",
    "am allergic to peanuts",
    "commute by bike every day",
    "speak Portuguese at home",
    "run the on-call rota in March",
    "prefer short answers with examples",
)
TASKS = (
    "renew my passport",
    "send the quarterly report",
    "book the dentist",
    "review the design doc",
    "water the plants",
)


def user_text(user: int, n: int) -> str:
    """The n-th message (0-based) of a user: mostly small talk, some things worth learning.

    About 3 in 10 messages give extraction something to store (a name, a fact, a todo, an
    interest); the rest are questions, so memory grows the way it does for a real user.
    """
    topic = TOPICS[(user + n) % len(TOPICS)]
    if n == 0:
        return f"Hi! My name is {NAMES[user % len(NAMES)]}. Nice to meet you."
    if n % 10 == 3:
        return f"Remember that I {FACTS[(user + n // 10) % len(FACTS)]} (note {n})."
    if n % 20 == 7:
        return f"Remind me to {TASKS[(user + n // 20) % len(TASKS)]} on day {n}."
    if n % 50 == 11:
        return f"I like {topic}."
    return f"What do you think about {topic}? Give me one idea for today, number {n}."


def bench_user(index: int) -> UserRef:
    return UserRef("bench", f"u{index}", display_name=NAMES[index % len(NAMES)])


def dm_of(user: UserRef, session: str = "s1") -> ConversationRef:
    return ConversationRef(f"bench:dm:{user.id}:{session}", "dm", "bench")


def message(user: UserRef, conversation: ConversationRef, n: int, index: int) -> ChatMessage:
    return ChatMessage(
        user=user,
        conversation=conversation,
        text=user_text(index, n),
        message_id=f"{user.id}-{conversation.key}-{n}",
    )
