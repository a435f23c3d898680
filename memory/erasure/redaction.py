"""Taking forgotten memory out of stored conversations and pending learning, and telling
which pending messages an erasure means must never be learned."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from memory.erasure.log import ErasureEvent
from memory.learning.pending import PendingMessage
from memory.schemas import SourceRef
from memory.storage.repository import MemoryRepository

if TYPE_CHECKING:
    from memory.erasure.conversations import ConversationStates


class Redactor:
    """Removes the words of a forgotten memory; `conversations` and `after_erasure` are set by
    the engine once the graph is compiled (without them only pending learning is scrubbed)."""

    def __init__(self, repository: MemoryRepository) -> None:
        self.repository = repository
        self.conversations: ConversationStates | None = None
        # Run after forgotten text was removed (see MemoryEngine `compact`).
        self.after_erasure: Callable[[], Awaitable[None]] | None = None

    async def redact(
        self, user_key: str, sources: list[SourceRef], texts: tuple[str, ...] = ()
    ) -> None:
        """Take forgotten memory out of the person's stored conversations: the turns it was
        learned from (`sources`), and any later turn of theirs or reply repeating `texts`."""
        await self.repository.scrub_pending(user_key, {ref.message_id for ref in sources}, texts)
        if self.conversations is None:
            return
        by_thread: dict[str, set[str]] = {ref.conversation: set() for ref in sources}
        for ref in sources:
            by_thread[ref.conversation].add(ref.message_id)
        if texts:
            for thread in await self.repository.conversations(user_key):
                by_thread.setdefault(thread, set())
        for thread, message_ids in by_thread.items():
            await self.conversations.remove_turns(
                thread, message_ids=message_ids, owner=user_key, containing=texts
            )
        if self.after_erasure is not None:
            await self.after_erasure()


def voids(event: ErasureEvent, message: PendingMessage) -> bool:
    """Does an erasure made after `message` was recorded mean it must not be learned?"""
    return event.everything or any(
        ref.conversation == message.conversation and ref.message_id == message.message_id
        for ref in event.sources
    )
