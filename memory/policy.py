"""How much is kept and for how long: the memory kinds (caps, retention, lifecycles) and the
bounds on history and summaries."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from memory.builtin_kinds import builtin_kinds
from memory.kinds import KindRegistry
from memory.schemas import StoredItem


@dataclass(frozen=True)
class MemoryPolicy:
    """`declared`: the deployer's kinds (MEMORY_KINDS); None runs the built-in kinds, with the
    caps and retention below (MAX_FACTS, MAX_TODOS, OPEN_TODO_DAYS, FINISHED_TODO_DAYS)."""

    max_facts: int = 500
    max_todos: int = 200
    max_history: int = 300
    # An open todo nobody mentioned for this long is shown as expired and no longer recalled.
    open_todo_days: int = 60
    # Done and expired todos are deleted this long after their last change.
    finished_todo_days: int = 90
    # A conversation summary older than this is no longer put in the prompt.
    summary_days: int = 30
    declared: KindRegistry | None = None

    @functools.cached_property
    def kinds(self) -> KindRegistry:
        """The kinds this bot remembers."""
        if self.declared is not None:
            return self.declared
        return KindRegistry(
            builtin_kinds(
                max_facts=self.max_facts,
                max_todos=self.max_todos,
                open_todo_days=self.open_todo_days,
                finished_todo_days=self.finished_todo_days,
            )
        )

    def state(self, item: StoredItem, now: datetime) -> str:
        """The lifecycle state a person sees ("" for a kind without one)."""
        kind = self.kinds.by_item(item.kind)
        return kind.state(item.data, item.updated_at, now) if kind else ""

    def is_gone(self, item: StoredItem, now: datetime) -> bool:
        """Past retention: swept from the store and never shown again."""
        kind = self.kinds.by_item(item.kind)
        return kind.is_gone(item.data, item.updated_at, now) if kind else False
