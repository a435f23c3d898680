"""The built-in memory kinds (profile, facts, todos), declared with the public helpers of
memory.kinds exactly as a deployer declares their own. A new built-in kind goes here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from memory.kinds import KindRegistry, Lifecycle, MemoryKind, collection, profile

MAX_TEXT = 500


class Profile(BaseModel):
    """What the person has said about themselves: who they are and how they like to work."""

    name: str | None = Field(default=None, description="Full name", max_length=120)
    preferred_name: str | None = Field(default=None, description="What to call them", max_length=80)
    role: str | None = Field(default=None, description="Job or role", max_length=200)
    team: str | None = Field(default=None, description="Team or organization", max_length=200)
    location: str | None = Field(default=None, description="City or region", max_length=200)
    timezone: str | None = Field(default=None, description="IANA time zone", max_length=64)
    languages: list[str] = Field(default_factory=list, description="Languages they speak")
    interests: list[str] = Field(default_factory=list, description="Topics they care about")
    preferences: list[str] = Field(
        default_factory=list, description="How they like answers, e.g. 'short replies'"
    )


class Fact(BaseModel):
    """One durable fact the person shared about themselves (not about other people)."""

    content: str = Field(
        description="The fact, as a short sentence", min_length=1, max_length=MAX_TEXT
    )
    category: str | None = Field(
        default=None, description="e.g. work, family, health", max_length=60
    )
    subject: str = Field(
        default="self",
        description="Who the fact is about: 'self' when the person says it about themselves,"
        " otherwise that other person's name (such facts are not kept)",
        max_length=80,
    )
    when: str | None = Field(
        default=None,
        description="When it happens or happened, if they said: YYYY-MM-DD, with relative dates"
        " ('next Friday', 'yesterday') worked out from the date the message was said",
        max_length=40,
    )


class Todo(BaseModel):
    """Something the person asked to be reminded of or plans to do."""

    task: str = Field(description="What to do", min_length=1, max_length=MAX_TEXT)
    due: str | None = Field(
        default=None,
        description="When it is due: YYYY-MM-DD when a date can be worked out (relative dates"
        " like 'next Friday' from the date the message was said), otherwise as they said it",
        max_length=100,
    )
    status: Literal["open", "done"] = Field(default="open", description="open or done")


def _todo_line(data: dict[str, Any]) -> str:
    due = data.get("due")
    return str(data.get("task", "")) + (f" (due {due})" if due else "")


def builtin_kinds(
    *,
    max_facts: int = 500,
    max_todos: int = 200,
    open_todo_days: int = 60,
    finished_todo_days: int = 90,
) -> list[MemoryKind]:
    """The built-in kinds, with the caps and retention of MAX_FACTS, MAX_TODOS,
    OPEN_TODO_DAYS (an open todo nobody mentioned for this long is expired) and
    FINISHED_TODO_DAYS (done and expired todos are deleted this long after)."""
    return [
        profile(
            Profile,
            name="profile",
            title="Profile",
            about="who {name} is and how they like to work. Patch the existing profile; never"
            " drop\n  fields that are still true.",
        ),
        collection(
            Fact,
            name="facts",
            item="fact",
            title="Facts",
            about="durable facts {name} states about themselves. Do not store facts about other"
            " people,\n  small talk, or anything {name} did not say about themselves.",
            text_field="content",
            cap=max_facts,
            recall_limit=8,
            recall_chars=2000,
            subject_field="subject",
            when_field="when",
            aliases=("memories",),
        ),
        collection(
            Todo,
            name="todos",
            item="todo",
            title="Todos",
            about="things {name} asked to be reminded of or plans to do. Mark one done (status"
            ' "done")\n  when {name} says it is done.',
            text_field="task",
            line=_todo_line,
            cap=max_todos,
            retention_days=finished_todo_days,
            lifecycle=Lifecycle(field="status", open="open", expire_days=open_todo_days),
            recall_limit=5,
            recall_chars=1000,
            recall_label="todo: ",
        ),
    ]


BUILTIN = KindRegistry(builtin_kinds())
