"""Erasure as a turn meets it: a turn that ran while something was forgotten, and platform
deletes and edits of messages the bot stored (see memory.erasure.log for the log they check)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from cachetools import LRUCache

from memory.accounts.people import People
from memory.agent.graph import pending_key
from memory.erasure.conversations import ConversationStates
from memory.erasure.log import ErasureEvent
from memory.messages import MAX_MESSAGE_CHARS, ChatMessage, MessageDeleted, MessageEdited
from memory.schemas import SourceRef
from memory.storage.locks import LocalUserLocks, UserLocks
from memory.storage.repository import MemoryRepository

log = logging.getLogger(__name__)

NOTED_CACHE = 20_000


class TurnErasure:
    """Keeps turns and platform changes consistent with the erasure log, in every process.

    `compact` (optional) runs after a platform delete, as after every erasure; `locks` are the
    user locks learning holds (a delete waits for learning in flight, so what it writes about
    the deleted message is there to be dropped).
    """

    def __init__(
        self,
        repository: MemoryRepository,
        conversations: ConversationStates,
        people: People,
        compact: Callable[[], Awaitable[None]] | None = None,
        locks: UserLocks | None = None,
    ) -> None:
        self.repository = repository
        self.locks: UserLocks = locks or LocalUserLocks()
        self.conversations = conversations
        self.people = people
        self._compact = compact
        # (person, conversation) -> the erasure token when this process last noted it; an
        # erasure anywhere changes the token, so the note is written again after it.
        self._noted: LRUCache[tuple[str, str], str | None] = LRUCache(maxsize=NOTED_CACHE)

    async def settle(self, message: ChatMessage, person: str, started_with: str | None) -> bool:
        """After a turn: undo what it wrote if an erasure happened while it ran (in any process).

        The turn's checkpoint and pending row are already written, and the erasure log is read
        after them, so either the erasure saw them (and removed them) or this sees the erasure.
        Returns False when forget all voided the turn.
        """
        user, thread = person, message.conversation.key
        if self._noted.get((user, thread), "unset") != started_with:
            # Noted before the log is read, so a forget all that this read misses finds it.
            await self.repository.note_conversation(user, thread, message.conversation.audience)
            self._noted[(user, thread)] = started_with
        erasure_log = await self.repository.erasure_log(user)
        events = erasure_log.since(started_with)
        if any(event.everything for event in events):
            await self.repository.delete_pending(user, [pending_key(thread, message.message_id)])
            if message.conversation.audience == "dm":
                await self.conversations.delete(thread)
            else:
                await self.conversations.remove_turns(thread, authored_by=user)
            log.info("a reply in flight was voided by forget all", extra={"user": user})
            return False
        if events:
            # Something was forgotten while this turn ran: its reply was written from memory
            # read before that, so neither the stored conversation nor learning keeps it.
            sources = {s.message_id for e in events for s in e.sources if s.conversation == thread}
            await self.conversations.remove_turns(
                thread, message_ids=sources, replies_to={message.message_id}
            )
            key = pending_key(thread, message.message_id)
            if message.message_id in sources:  # this very message was deleted meanwhile
                await self.repository.delete_pending(user, [key])
            else:
                await self.repository.clear_pending_reply(user, key)
        return True

    async def message_deleted(self, event: MessageDeleted) -> int:
        """A platform delete: the messages leave pending learning and the stored conversation
        (with the replies to them), and memory history and Undo keep none of their words (what
        was learned from them stays until it is forgotten). Returns how many of them the bot had
        stored."""
        thread, ids = event.conversation.key, set(event.message_ids)
        people: set[str] = set()
        if event.author is not None:
            # Recorded first: a turn answering it in another process sees this when it ends.
            person = await self.people.resolve(event.author)
            people.add(person)
            refs = [SourceRef(conversation=thread, message_id=i) for i in sorted(ids)]
            await self.repository.record_erasure(person, ErasureEvent(sources=refs))
            await self.repository.delete_pending(person, [pending_key(thread, i) for i in ids])
        # After any turn of this conversation in flight here, so it cannot write them back.
        async with self.conversations.locks.hold(thread):
            authors = await self.conversations.authors_of(thread, ids)
        for user in authors:
            await self.repository.delete_pending(user, [pending_key(thread, i) for i in ids])
        for user in sorted(people | set(authors)):
            async with self.locks.hold(user):
                await self.repository.forget_message_traces(user, thread, ids)
        if authors:
            await self.conversations.remove_turns(thread, message_ids=ids)
            log.info("removed deleted messages", extra={"conversation": thread})
        else:
            # Not in the stored turns: it may have been folded into the summary already.
            await self.conversations.drop_summary(thread)
        if self._compact is not None:
            await self._compact()
        return len(authors)

    async def message_edited(self, event: MessageEdited) -> bool:
        """A platform edit: the new text replaces the stored message and what is pending for
        it (learning sees only the edited text), and, as for a delete, history and Undo keep
        none of the old words (what was learned from them stays until it is forgotten).
        False when the bot never stored it."""
        thread = event.conversation.key
        async with self.conversations.locks.hold(thread):
            authors = await self.conversations.authors_of(thread, {event.message_id})
        if not authors or len(event.text) > MAX_MESSAGE_CHARS:
            return False
        speaker = event.conversation.audience == "channel"
        await self.conversations.edit_turn(thread, event.message_id, event.text, speaker=speaker)
        key = pending_key(thread, event.message_id)
        for user in authors:
            pending = (await self.repository.list_pending(user)).get(key)
            if pending is not None:
                edited = pending.model_copy(update={"text": event.text, "reply": ""})
                await self.repository.add_pending(user, key, edited)
            async with self.locks.hold(user):
                await self.repository.forget_message_traces(user, thread, {event.message_id})
        return True
