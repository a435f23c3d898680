"""How much is kept and for how long: caps per collection and retention per kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from memory.schemas import StoredItem


@dataclass(frozen=True)
class MemoryPolicy:
    max_facts: int = 500
    max_todos: int = 200
    max_history: int = 300
    # An open todo nobody mentioned for this long is shown as expired and no longer recalled.
    open_todo_days: int = 60
    # Done and expired todos are deleted this long after their last change.
    finished_todo_days: int = 90
    # A conversation summary older than this is no longer put in the prompt.
    summary_days: int = 30

    def todo_state(self, item: StoredItem, now: datetime) -> str:
        status = str(item.data.get("status", "open"))
        if status == "open" and now - item.updated_at > timedelta(days=self.open_todo_days):
            return "expired"
        return status

    def todo_is_gone(self, item: StoredItem, now: datetime) -> bool:
        """Past retention: swept from the store and never shown again."""
        if self.todo_state(item, now) == "open":
            return False
        age = now - item.updated_at
        if self.todo_state(item, now) == "expired":
            age -= timedelta(days=self.open_todo_days)
        return age > timedelta(days=self.finished_todo_days)
