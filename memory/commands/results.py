"""Platform-neutral results of /memory commands; adapters render them (Block Kit, embeds, text)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from memory.accounts.linking import LinkResult
from memory.commands.history import HistoryEntry
from memory.commands.verbs import USAGE, forget_all_question
from memory.ids import field_id
from memory.schemas import Kind, StoredItem, profile_text

# The state shown for an item that no longer fits its kind's schema (memory.storage.evolution).
INVALID_STATE = "kept as stored: it no longer fits its schema"


def _learned_where(item: StoredItem) -> dict[str, Any]:
    """Where and when `item` was learned, as ItemView's fields."""
    where = item.provenance
    return {
        "audience": where.audience,
        "platform": where.platform,
        "conversation": where.conversation,
        "learned_at": where.learned_at,
        "permalink": where.permalink,
        "conversation_name": where.conversation_name,
    }


@dataclass(frozen=True)
class ItemView:
    """One remembered item as a person sees it."""

    id: str
    kind: Kind
    text: str
    audience: str
    platform: str
    conversation: str
    learned_at: datetime
    permalink: str | None = None
    state: str = ""
    # The channel's name, when the platform gave it.
    conversation_name: str | None = None

    @classmethod
    def of(cls, key: str, item: StoredItem, state: str = "") -> ItemView:
        """A collection item; its lifecycle `state` ("done", "expired") is shown apart."""
        kind = item.described()
        # An item that no longer fits its schema is shown as stored, every field of it.
        text = kind.line(item.data) if kind is not None and item.fit != "invalid" else ""
        text = text or profile_text(item.data)
        if item.fit == "invalid":
            state = state or INVALID_STATE
        return cls(id=key, kind=item.kind, text=text, state=state, **_learned_where(item))

    @classmethod
    def of_field(cls, name: str, profile: StoredItem) -> ItemView:
        """One profile field as its own item, with the id a person types to forget it."""
        return cls(
            id=field_id(name),
            kind=profile.kind,
            text=profile_text({name: profile.data.get(name)}),
            **_learned_where(profile),
        )

    def source(self) -> str:
        """Where and when it was learned, for a person:
        `learned in a DM on slack, 2026-01-31 14:05 UTC`, `learned in #general on discord, …`
        (`a channel` when its name is not known)."""
        where = "a DM" if self.audience == "dm" else "a channel"
        if self.audience != "dm" and self.conversation_name:
            where = f"#{self.conversation_name}"
        return f"learned in {where} on {self.platform}, {self.learned_at:%Y-%m-%d %H:%M} UTC"


def still_learning_line(count: int) -> str:
    """The line under a list read while learning from `count` recent messages was running."""
    plural = "message" if count == 1 else "messages"
    return f"Still learning from {count} recent {plural}; this will update when I'm done."


@dataclass(frozen=True)
class ShowSection:
    """One kind's part of a list: its name, its title and its items (a profile's fields)."""

    name: str
    title: str
    items: list[ItemView] = field(default_factory=list)
    # A profile kind's section lists fields; a collection's, items.
    profile: bool = False


@dataclass(frozen=True)
class ShowResult:
    """`/memory show`: the person's items by kind (`sections`, in the registry's order, profiles
    first), for `scope` ("all" or one kind's name), with whether learning is paused, their linked
    accounts (when more than one) and how many recent messages were still being learned from."""

    scope: str
    sections: tuple[ShowSection, ...] = ()
    paused: bool = False
    # The person's accounts (memory.accounts.people), when more than one is linked.
    linked: tuple[str, ...] = ()
    # Recent messages still being learned from when this was read (it is then refreshed).
    still_learning: int = 0

    def of(self, kind: str) -> list[ItemView]:
        """The items shown for one kind."""
        return next((s.items for s in self.sections if s.name == kind), [])

    @property
    def profiles(self) -> list[ItemView]:
        """The built-in profile's fields (a shortcut for `of("profile")`)."""
        return self.of("profile")

    @property
    def facts(self) -> list[ItemView]:
        """The built-in facts shown (a shortcut for `of("facts")`)."""
        return self.of("facts")

    @property
    def todos(self) -> list[ItemView]:
        """The built-in to-dos shown (a shortcut for `of("todos")`)."""
        return self.of("todos")

    @property
    def items(self) -> list[ItemView]:
        """Every collection item (no profile field), in the order shown."""
        return [view for s in self.sections if not s.profile for view in s.items]

    @property
    def everything(self) -> list[ItemView]:
        """Every item, each with an id, in the order shown."""
        return [view for section in self.sections for view in section.items]

    @property
    def empty(self) -> bool:
        """Whether nothing at all is shown."""
        return not self.everything

    def linked_text(self) -> str:
        """ "Linked accounts: …", or "" when only one account is the person's."""
        return "Linked accounts: " + ", ".join(self.linked) if len(self.linked) > 1 else ""

    def as_text(self) -> str:
        """The list as plain text: a title per kind, each item as `[id] text [state] (source)`, then
        a paused line, a still-learning line and the linked accounts when they apply."""
        linked = f"\n{self.linked_text()}" if self.linked_text() else ""
        if self.empty:
            empty = "I don't remember anything about you yet." + (
                " (Learning is paused.)" if self.paused else ""
            )
            return "\n".join([empty, *self.learning_lines()]) + linked
        lines: list[str] = []
        for section in self.sections:
            if not section.items:
                continue
            lines.append(f"{section.title}:")
            for view in section.items:
                label = f"[{view.id}] "
                state = f" [{view.state}]" if view.state else ""
                lines.append(f"  {label}{view.text}{state}  ({view.source()})")
        if self.paused:
            lines.append("Learning is paused: `/memory resume` starts it again.")
        return "\n".join([*lines, *self.learning_lines()]) + linked

    def learning_lines(self) -> list[str]:
        """The still-learning line while recent messages are being learned from; else none."""
        return [still_learning_line(self.still_learning)] if self.still_learning else []


@dataclass(frozen=True)
class ForgetResult:
    """`/memory forget <id>`: the item that was forgotten (as it was shown)."""

    item: ItemView

    def as_text(self) -> str:
        """One line: `Forgotten: <the item's text>`."""
        return f"Forgotten: {self.item.text}"


@dataclass(frozen=True)
class ConfirmForgetAll:
    """Asked before anything is deleted; adapters show a confirm button."""

    counts: dict[str, int]

    def question(self) -> str:
        """The question alone, for a platform that asks with a button."""
        return forget_all_question(sum(self.counts.values()))

    def as_text(self) -> str:
        """The question, with how to confirm it by text (for a platform without buttons)."""
        return self.question() + " Send `/memory forget all confirm` to go ahead."


@dataclass(frozen=True)
class ForgetAllReceipt:
    """What forget all deleted: rows by section, DM conversations deleted whole, channel
    threads the person's own messages were removed from, and replies still in flight that
    will keep nothing."""

    deleted: dict[str, int]
    conversations: int
    paused: bool
    channel_threads: int = 0
    voided_in_flight: int = 0

    def as_text(self) -> str:
        """One sentence listing what was deleted (rows by section, DM conversations, channel
        threads, replies voided in flight), and that learning stays paused if it was."""
        parts = [f"{n} {section}" for section, n in sorted(self.deleted.items()) if n]
        parts.append(f"{self.conversations} DM conversation(s)")
        if self.channel_threads:
            parts.append(f"your messages in {self.channel_threads} channel thread(s)")
        if self.voided_in_flight:
            parts.append(f"{self.voided_in_flight} message(s) I was still answering")
        text = "Deleted everything I remembered about you: " + ", ".join(parts) + "."
        if self.paused:
            text += " Learning stays paused."
        return text


@dataclass(frozen=True)
class CorrectResult:
    """`/memory correct`: the items the correction added and changed (as now shown), how many it
    removed, and whether a profile changed."""

    added: list[ItemView]
    changed: list[ItemView]
    removed: int
    profile_changed: bool

    def as_text(self) -> str:
        """`Corrected.` and a line per change, or that nothing was found to change."""
        if not (self.added or self.changed or self.removed or self.profile_changed):
            return "I found nothing to change. `/memory show` lists what I remember."
        lines = ["Corrected."]
        if self.profile_changed:
            lines.append("  profile updated")
        lines.extend(f"  changed [{v.id}] {v.text}" for v in self.changed)
        lines.extend(f"  added [{v.id}] {v.text}" for v in self.added)
        if self.removed:
            lines.append(f"  removed {self.removed} item(s)")
        return "\n".join(lines)


@dataclass(frozen=True)
class ExportResult:
    """`/memory export`: the person's whole memory as a JSON-ready `document` (every kind under
    its name, kinds no longer declared, the history), the same as indented JSON text, a file
    name for it (`memory-<user key>.json`, colons as dashes) and how many recent messages were
    still being learned from."""

    document: dict[str, Any]
    json_text: str
    filename: str
    still_learning: int = 0

    def as_text(self) -> str:
        """The JSON text itself."""
        return self.json_text


@dataclass(frozen=True)
class LearningResult:
    """`/memory pause` or `/memory resume`: whether learning is paused now."""

    paused: bool

    def as_text(self) -> str:
        """What pausing or resuming means, in one or two sentences."""
        if self.paused:
            return (
                "Learning paused: I won't learn from your messages (I still use what I know). "
                "`/memory resume` starts it again."
            )
        return "Learning resumed."


@dataclass(frozen=True)
class HistoryResult:
    """`/memory history`: the recorded changes to the person's memory, oldest first."""

    entries: list[HistoryEntry]

    def as_text(self) -> str:
        """The changes, newest first, one line each, or that none are recorded."""
        if not self.entries:
            return "No changes to your memory are recorded."
        return "Changes to your memory, newest first:\n" + "\n".join(
            "  " + entry.as_text() for entry in reversed(self.entries)
        )


@dataclass(frozen=True)
class UndoResult:
    """What `/memory undo` (or an Undo button) did: `reason` is done, gone (no such change
    to undo, or past the undo window), undone (that change was undone already), changed
    (something newer touched these items), forgotten (the newest change was a forget, which is
    final), "forgotten since" (what that change learned was forgotten after it) or learning
    (messages are still being learned from, so "the latest" is not known)."""

    reverted: list[str]
    reason: str
    blocked: list[str] = field(default_factory=list)
    # What was done to each reverted item, in the same order: `forgot I keep bees`,
    # `restored I keep bees`, `changed back location: Lisbon -> Porto` (memory.commands.undo).
    done: list[str] = field(default_factory=list)

    def as_text(self) -> str:
        """What was undone, why nothing was (something newer changed the same items), or that there
        is nothing to undo."""
        if self.reason == "done":
            return "Undone: " + "; ".join(self.done or self.reverted) + "."
        if self.reason == "changed":
            return (
                "I didn't undo that: something newer changed the same memory ("
                + "; ".join(self.blocked)
                + "). `/memory show` lists what I remember now."
            )
        if self.reason == "learning":
            return (
                "I'm still learning from your latest messages; "
                "try `/memory undo` again in a moment."
            )
        if self.reason == "forgotten":
            return (
                "The last change to your memory was forgetting something, and that is final: "
                "there is nothing to undo. `/memory history` lists changes."
            )
        if self.reason == "undone":
            return "That was already undone. `/memory history` lists changes."
        if self.reason == "forgotten since":
            return (
                "I didn't undo that: that memory was forgotten since, and forgetting is final. "
                "`/memory history` lists changes."
            )
        return "There is nothing I learned recently to undo. `/memory history` lists changes."


@dataclass(frozen=True)
class WhyResult:
    """Why an item is remembered: where from (a link, the words while still stored) and its
    change history, oldest first."""

    item: ItemView
    permalink: str | None
    message_id: str | None
    words: str | None
    history: list[HistoryEntry]
    # When what it says now came from `/memory correct` (UTC), not from a message.
    corrected: datetime | None = None
    # The message was edited after it was learned from: its words now are not the item's source.
    edited: bool = False
    # The message it came from was deleted on its platform: no link, and no words to quote.
    deleted: bool = False

    def as_text(self) -> str:
        """The item, where it was learned, the message (link or id), the person's words while they
        are still stored, and its history."""
        lines = [f"[{self.item.id}] {self.item.text}", f"  {self.item.source()}"]
        if self.corrected is not None:
            lines.append(
                f"  set by your correction (/memory correct), {self.corrected:%Y-%m-%d %H:%M} UTC"
            )
        if self.deleted:
            lines.append("  (the message I learned it from is no longer stored)")
        elif self.permalink:
            lines.append(f"  message: {self.permalink}")
        elif self.message_id:
            lines.append(f"  message: {self.message_id}")
        if self.words:
            lines.append(f"  you said: “{self.words}”")
        elif self.edited:
            lines.append("  (you edited that message after I learned from it)")
        if self.history:
            lines.append("  history:")
            lines.extend("    " + entry.as_text() for entry in self.history)
        return "\n".join(lines)


@dataclass(frozen=True)
class HelpResult:
    """`/memory help`, or a verb the platform passed without what it needs: the usage."""

    def as_text(self) -> str:
        """`Usage:` and one line per verb (memory.commands.verbs.USAGE)."""
        return "Usage:\n" + USAGE


CommandResult = (
    ShowResult
    | ForgetResult
    | ConfirmForgetAll
    | ForgetAllReceipt
    | CorrectResult
    | ExportResult
    | LearningResult
    | HistoryResult
    | HelpResult
    | LinkResult
    | UndoResult
    | WhyResult
)
