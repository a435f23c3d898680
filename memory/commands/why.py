"""`/memory why <id>`: what an item says, when and where it was learned, the message it came
from (link, and its words while the conversation still holds them) and its change history."""

from __future__ import annotations

from datetime import datetime

from memory.agent.turn_ids import human_id
from memory.commands.history import NOT_A_MESSAGE, HistoryEntry
from memory.commands.results import ItemView, WhyResult
from memory.erasure.conversations import EDITED_AT, ConversationStates
from memory.errors import CommandError
from memory.ids import field_name
from memory.schemas import SourceRef, StoredItem, profile_text
from memory.storage.repository import MemoryRepository

# The history cause and provenance message id of `/memory correct` (memory.commands.operations).
CORRECTION = "correction"


async def explain(
    repository: MemoryRepository,
    conversations: ConversationStates,
    user_key: str,
    item_id: str,
) -> WhyResult:
    """Why `user_key` has the item `item_id` (their own memory only).

    Raises CommandError when they have no item with that id.
    """
    memory = await repository.load(user_key)
    item = memory.item(item_id)
    view: ItemView | None = ItemView.of(item_id, item) if item is not None else None
    permalink = item.provenance.permalink if item is not None else None
    name = field_name(item_id)
    # The profile document whose value of the field is shown (None for a collection item).
    shown: StoredItem | None = None
    if item is None:
        kind = memory.kinds.profile_of(name)
        for audience in ("channel", "dm") if kind else ():  # a DM value is shown over a channel one
            profile = memory.of(kind.name).get(audience) if kind else None
            if profile is not None and profile.data.get(name) not in (None, "", []):
                view = ItemView.of_field(name, profile)
                shown = profile
    if view is None:
        raise CommandError(
            f"I have no memory with id `{item_id}` for you. `/memory show` lists your ids."
        )
    history = [e for e in (await repository.history(user_key)).values() if e.item_id == item_id]
    source = _source_entry(history)
    # A profile field's value came from the latest change to its document; when history no
    # longer has that change (its message was deleted or edited on the platform, which takes
    # its words out of history), an older message must not be credited with the value.
    lost: SourceRef | None = None
    if shown is not None:
        audiences = await repository.conversations(user_key)
        source = _source_entry(
            [e for e in history if _same_audience(e, shown.provenance.audience, audiences)]
        )
        if source is not None and not _sets(source, name, shown.data.get(name)):
            # The message it came from: the latest the field learned from that history no
            # longer names.
            named = {e.cause for e in history}
            unnamed = [r for r in shown.field_sources.get(name, []) if r.message_id not in named]
            lost = unnamed[-1] if unnamed else None
            source, permalink = None, None
        elif source is None and shown.field_sources.get(name):
            # History names no change of it at all (the messages were deleted, or their
            # entries went past the history cap): only a delete the erasure log recorded is
            # named, so an entry merely past the cap is not called deleted.
            last = shown.field_sources[name][-1]
            if await _recorded_delete(repository, user_key, last):
                lost = last
    corrected = source.at if source is not None and source.cause == CORRECTION else None
    message_id = source.cause if source and corrected is None else None
    conversation = source.conversation if source and corrected is None else None
    if source is not None and source.permalink:
        permalink = source.permalink
    said = item.provenance if item is not None else None
    if lost is not None:
        message_id, conversation = lost.message_id, lost.conversation
        if shown is not None and shown.provenance.message_id == lost.message_id:
            permalink = shown.provenance.permalink
    # A collection item knows the message its current state came from (an Undo puts the
    # earlier state back with its own); history may no longer name it (deleted on the
    # platform, or past the history cap).
    if said and said.message_id == CORRECTION:
        corrected = corrected or said.learned_at
        message_id, conversation, permalink = None, None, None
    elif said and said.message_id not in (None, message_id, *NOT_A_MESSAGE):
        message_id, conversation, permalink = said.message_id, said.conversation, said.permalink
        corrected = None
    if corrected is not None:
        # A correction is not a message: no link and no words of an older one.
        permalink = None
    words, edited, deleted = None, False, False
    if message_id and conversation:
        learned = source.at if source is not None and source.cause == message_id else None
        if learned is None and said is not None and said.message_id == message_id:
            learned = said.learned_at
        in_channel = (await repository.conversations(user_key)).get(conversation) == "channel"
        words, edited, stored = await _words(
            conversations, conversation, message_id, user_key, learned, speaker=in_channel
        )
        # A platform delete takes the message out of the conversation and its changes out of
        # history; a message only folded into a summary is still named by its history, unless
        # the item's whole history went past the cap: then only a recorded delete counts.
        deleted = (
            not stored
            and all(e.cause != message_id for e in history)
            and (
                bool(history)
                or await _recorded_delete(
                    repository,
                    user_key,
                    SourceRef(conversation=conversation, message_id=message_id),
                )
            )
        )
    if deleted:
        permalink = None  # a link to a deleted message leads nowhere
    return WhyResult(
        item=view,
        permalink=permalink,
        message_id=message_id,
        words=words,
        history=history,
        corrected=corrected,
        edited=edited,
        deleted=deleted,
    )


async def _recorded_delete(repository: MemoryRepository, user_key: str, ref: SourceRef) -> bool:
    """Does the erasure log record the message `ref` as gone (a platform delete whose author
    was known, or a forget that reached it)?"""
    return any(ref in event.sources for event in (await repository.erasure_log(user_key)).events)


def _same_audience(entry: HistoryEntry, audience: str, audiences: dict[str, str]) -> bool:
    """Was the change of `entry` made to the profile document of `audience` ("dm" or
    "channel")? Corrections change the DM one; entries naming no known conversation count."""
    if entry.cause == CORRECTION:
        return audience == "dm"
    if entry.conversation is None or entry.conversation not in audiences:
        return True
    return audiences[entry.conversation] == audience


def _sets(entry: HistoryEntry, name: str, value: object) -> bool:
    """Did the change of `entry` leave the field `name` holding `value` (`location: Lisbon`,
    `location: Porto -> Lisbon`)?"""
    wanted = profile_text({name: value}).partition(": ")[2]
    said = entry.text.partition(": ")[2]
    return said == wanted or said.endswith(f" -> {wanted}")


def _source_entry(history: list[HistoryEntry]) -> HistoryEntry | None:
    """The change what the item says now came from: the latest one from a message or a
    correction that no Undo took back (an undone patch leaves the item as the message before
    it made it). Consolidation only tidies, so it names no source."""
    in_effect: list[HistoryEntry] = []
    for entry in history:
        if entry.undoes:
            in_effect = [e for e in in_effect if e.change_set != entry.undoes]
        elif entry.cause == "undo":
            # Written before undo entries named their change set: an Undo takes back the
            # item's latest change (it refuses when anything newer touched the item).
            in_effect = in_effect[:-1]
        else:
            in_effect.append(entry)
    for entry in reversed(in_effect):
        if entry.change == "removed":
            continue
        if entry.cause == CORRECTION or entry.cause not in NOT_A_MESSAGE:
            return entry
    return None


async def _words(
    conversations: ConversationStates,
    thread: str,
    message_id: str,
    user_key: str,
    learned: datetime | None,
    *,
    speaker: bool,
) -> tuple[str | None, bool, bool]:
    """The person's message as the conversation still stores it (None once it is gone),
    whether it was edited after `learned` (then its words are not what the item was learned
    from, and None is returned for them), and whether the conversation still holds it at all.
    `speaker`: a channel turn, stored as "Name: text", whose name is left out."""
    state = await conversations.graph.aget_state({"configurable": {"thread_id": thread}})
    wanted = human_id(message_id, user_key)
    for message in state.values.get("messages", []):
        if message.id != wanted:
            continue
        edited_at = message.additional_kwargs.get(EDITED_AT)
        if edited_at and (learned is None or datetime.fromisoformat(edited_at) > learned):
            return None, True, True
        text = str(message.text)
        if speaker:
            _, sep, said = text.partition(": ")
            text = said if sep else text
        return text, False, True
    return None, False, False
