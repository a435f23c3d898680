"""Stored conversations (LangGraph threads) as erasure sees them: remove turns, delete threads.

Every change here writes a new checkpoint and then prunes the older ones, so no stored
version of the thread keeps what was removed. A summary that may have folded the removed
turns in is dropped with them (it is rebuilt from what remains as the thread grows).

With per-conversation data keys (memory.storage.checkpoints.ThreadSealing), a
removal also re-keys the
thread: what remains is written afresh under a new key and the old key is destroyed, so older
copies of the thread (in a write-ahead log, dead row versions, backups), which still hold what
was removed, open no more. Deleting a thread destroys its key.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import AnyMessage, HumanMessage, RemoveMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.pregel import Pregel

from memory.agent.turn_ids import parse_turn_id
from memory.erasure.repeats import repeats_of
from memory.storage.checkpoints import CheckpointPruner, ThreadSealing
from memory.storage.locks import LocalUserLocks

# The key an edited message's stored copy carries its edit time under (additional_kwargs).
EDITED_AT = "edited_at"

log = logging.getLogger(__name__)


class ConversationStates:
    """Erasure operations on the threads of one compiled graph.

    `locks` are the per-conversation locks the engine holds while a turn runs, so nothing
    here interleaves with a turn of the same conversation in this process (turns in other
    processes reconcile themselves against the erasure log when they finish).
    """

    def __init__(
        self,
        graph: Pregel[Any, Any, Any, Any],
        checkpointer: BaseCheckpointSaver[Any],
        locks: LocalUserLocks,
        pruner: CheckpointPruner,
    ) -> None:
        self.graph = graph
        self.checkpointer = checkpointer
        self.locks = locks
        self.pruner = pruner

    async def remove_turns(
        self,
        thread: str,
        *,
        message_ids: set[str] | frozenset[str] = frozenset(),
        authored_by: str | Collection[str] | None = None,
        owner: str | None = None,
        containing: tuple[str, ...] = (),
        replies_to: set[str] | frozenset[str] = frozenset(),
    ) -> int:
        """Remove stored messages; returns how many went. A message goes when it is

        - a turn (the person's message or the reply to it) whose platform id is in `message_ids`;
        - a turn of the person `authored_by` (forget all in a shared thread: their id, or
          every id their turns may be stored under);
        - a message of the user `owner`, or the bot's reply to them, that repeats one of
          `containing` as whole words (case-insensitive): a forgotten memory said again;
        - the bot's reply to a platform message in `replies_to` (it was written from memory
          read before an erasure).
        Messages of other people, and replies to them, are theirs and stay. The summary goes
        when it may hold anything removed or repeats `containing`.
        """
        repeated = repeats_of(containing)
        authors = {authored_by} if isinstance(authored_by, str) else set(authored_by or ())

        async with self.locks.hold(thread):
            config = _config(thread)
            state = await self.graph.aget_state(config)
            messages: list[AnyMessage] = state.values.get("messages", [])
            removals, found = [], set()
            for message in messages:
                turn = parse_turn_id(message.id)
                if turn is None or not message.id:
                    continue
                theirs = owner is not None and turn.user_key == owner
                if (
                    turn.message_id in message_ids
                    or turn.user_key in authors
                    or (turn.reply and turn.message_id in replies_to)
                    or (theirs and repeated is not None and repeated.search(message.text))
                ):
                    removals.append(RemoveMessage(id=message.id))
                    found.add(turn.message_id)
            update: dict[str, Any] = {"messages": removals}
            # A summary may hold what was removed, or turns folded into it before: whenever
            # something asked for is not in the state any more, the summary goes too.
            summary = str((state.values.get("summary") or {}).get("text") or "")
            if summary and (
                authors
                or not set(message_ids) <= found
                or (repeated is not None and repeated.search(summary))
            ):
                update["summary"] = {"text": "", "at": datetime.now(UTC).isoformat()}
            if not removals and "summary" not in update:
                return 0
            await self.graph.aupdate_state(config, update, as_node="remember")
            await self.pruner.prune(thread)
            await self._rekey(thread)
            log.info("removed turns from a conversation", extra={"conversation": thread})
            return len(removals)

    async def _rekey(self, thread: str) -> None:
        """Write the thread's state afresh under a new data key and destroy the old key (with
        ThreadSealing; otherwise nothing to do). Call holding the thread's lock. A crash
        between the delete and the write loses the conversation's context, never memory."""
        if not isinstance(self.checkpointer, ThreadSealing):
            return
        config = _config(thread)
        state = await self.graph.aget_state(config)
        values = {k: v for k, v in state.values.items() if k in ("messages", "summary")}
        await self.checkpointer.adelete_thread(thread)  # destroys the key too
        if values.get("messages") or values.get("summary"):
            await self.graph.aupdate_state(config, values, as_node="remember")

    async def drop_summary(self, thread: str) -> bool:
        """Drop the thread's summary (it may hold a message deleted after it was folded in)."""
        async with self.locks.hold(thread):
            config = _config(thread)
            state = await self.graph.aget_state(config)
            if not (state.values.get("summary") or {}).get("text"):
                return False
            cleared = {"summary": {"text": "", "at": datetime.now(UTC).isoformat()}}
            await self.graph.aupdate_state(config, cleared, as_node="remember")
            await self.pruner.prune(thread)
            await self._rekey(thread)
            return True

    async def authors_of(self, thread: str, message_ids: set[str]) -> set[str]:
        """The user keys of the people who sent these platform messages in the thread."""
        state = await self.graph.aget_state(_config(thread))
        turns = (parse_turn_id(m.id) for m in state.values.get("messages", []))
        return {t.user_key for t in turns if t and not t.reply and t.message_id in message_ids}

    async def edit_turn(self, thread: str, message_id: str, text: str, *, speaker: bool) -> bool:
        """Replace the text of a person's stored message after a platform edit; True if found.

        `speaker`: the stored text starts with "Name: " (channel conversations) and keeps it.
        """
        async with self.locks.hold(thread):
            config = _config(thread)
            state = await self.graph.aget_state(config)
            for message in state.values.get("messages", []):
                turn = parse_turn_id(message.id)
                if turn and not turn.reply and turn.message_id == message_id:
                    prefix = ""
                    if speaker:
                        head, sep, _ = message.text.partition(": ")
                        prefix = head + sep if sep else ""
                    # When it was edited (UTC, ISO 8601): what was learned from it before
                    # came from other words (memory.commands.why does not quote these for it).
                    marked = {**message.additional_kwargs, EDITED_AT: datetime.now(UTC).isoformat()}
                    edited = HumanMessage(
                        content=prefix + text, id=message.id, additional_kwargs=marked
                    )
                    await self.graph.aupdate_state(
                        config, {"messages": [edited]}, as_node="remember"
                    )
                    await self.pruner.prune(thread)
                    await self._rekey(thread)
                    return True
        return False

    async def delete(self, thread: str) -> None:
        """Delete every checkpoint of the thread."""
        async with self.locks.hold(thread):
            await self.checkpointer.adelete_thread(thread)


def _config(thread: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread}}
