"""The durable inbox: every platform event the bot will answer, recorded before it is acked.

An entry moves ``received`` -> ``claimed`` (a process owns it, under a lease it renews while
it works) -> ``done`` (answered, or knowingly not answered). Deduplication is a state of the
entry: a redelivery of a ``done`` event is skipped; one that is unfinished (its owner died, so
the lease ran out) is answered. The SQL implementations live with the storage (bot/inbox.py);
this module holds the contract and an in-process implementation for tests and single runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from cachetools import FIFOCache

InboxState = Literal["received", "claimed", "done"]

# Finished entries are kept this long (seconds) so late redeliveries are still recognised;
# Slack retries for about 5 minutes, Discord never redelivers.
RETENTION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class InboxEntry:
    """One recorded event: `payload` is the platform body as received (None once done)."""

    key: str
    state: InboxState
    payload: dict[str, Any] | None
    received_at: float  # unix seconds
    owner: str | None = None
    lease_until: float = 0.0  # unix seconds; a claim past it belongs to nobody
    attempts: int = 0

    def age(self, now: float | None = None) -> float:
        """Seconds since the event was recorded."""
        return (time.time() if now is None else now) - self.received_at


class Inbox(Protocol):
    """Storage of inbox entries. Every method may raise the backend's error when the
    database is unreachable; callers decide what that means (non-2xx, no ack, retry)."""

    async def record(
        self, key: str, payload: dict[str, Any], author: str | None = None
    ) -> InboxState:
        """Insert `key` as received unless present; the entry's state afterwards. `author`:
        the account key of who wrote the event, when known; with a key ring its payload is
        sealed with that account's inbox data key (memory.storage.sealing.inbox_owner), which forget
        all destroys."""
        ...

    async def claim(self, key: str, owner: str, lease_seconds: float) -> bool:
        """Take the entry for `owner` if it is received or its lease ran out; True if taken."""
        ...

    async def renew(self, owner: str, lease_seconds: float) -> int:
        """Extend every claim `owner` holds; how many there were."""
        ...

    async def release(self, key: str, owner: str) -> None:
        """Give a claim back unfinished (shutdown, or the answer could not be sent)."""
        ...

    async def finish(self, key: str) -> None:
        """Mark done and drop the payload (what was said is not kept here once answered)."""
        ...

    async def unfinished(self, prefix: str, older_than: float, limit: int) -> list[InboxEntry]:
        """Entries under `prefix` that nobody owns: received before `older_than` (unix
        seconds) and never claimed, or claimed with a lease that ran out. Oldest first.
        An entry whose author was forgotten since (its data key destroyed) is finished
        unanswered instead, and not returned."""
        ...

    async def prune(self, before: float) -> int:
        """Delete done entries finished before `before` (unix seconds); how many went."""
        ...

    async def keys_since(self, prefix: str, since: float, limit: int) -> list[str]:
        """Keys under `prefix` recorded at or after `since` (unix seconds), newest first."""
        ...


class MemoryInbox:
    """In-process only (tests, one process without a database): the same states in a dict."""

    def __init__(self, capacity: int = 50_000) -> None:
        # Beyond `capacity` entries the first recorded goes first.
        self._entries: FIFOCache[str, InboxEntry] = FIFOCache(maxsize=capacity)

    async def record(
        self, key: str, payload: dict[str, Any], author: str | None = None
    ) -> InboxState:
        """Inbox.record in memory: a new key is kept as received; a known key keeps its state."""
        entry = self._entries.get(key)
        if entry is None:
            entry = InboxEntry(key, "received", payload, time.time())
            self._entries[key] = entry
        return entry.state

    async def claim(self, key: str, owner: str, lease_seconds: float) -> bool:
        """Inbox.claim in memory: True when `owner` now holds `key` for `lease_seconds`."""
        entry = self._entries.get(key)
        now = time.time()
        if entry is None or not _claimable(entry, now):
            return False
        self._entries[key] = replace(
            entry,
            state="claimed",
            owner=owner,
            lease_until=now + lease_seconds,
            attempts=entry.attempts + 1,
        )
        return True

    async def renew(self, owner: str, lease_seconds: float) -> int:
        """Inbox.renew in memory: extends every lease `owner` holds; returns how many."""
        until = time.time() + lease_seconds
        mine = [e for e in self._entries.values() if e.state == "claimed" and e.owner == owner]
        for entry in mine:
            self._entries[entry.key] = replace(entry, lease_until=until)
        return len(mine)

    async def release(self, key: str, owner: str) -> None:
        """Inbox.release in memory: `owner`'s claim on `key` goes back to received."""
        entry = self._entries.get(key)
        if entry is not None and entry.state == "claimed" and entry.owner == owner:
            self._entries[key] = replace(entry, state="received", owner=None, lease_until=0.0)

    async def finish(self, key: str) -> None:
        """Inbox.finish in memory: `key` is done and its payload dropped."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries[key] = replace(entry, state="done", payload=None, lease_until=time.time())

    async def unfinished(self, prefix: str, older_than: float, limit: int) -> list[InboxEntry]:
        """Inbox.unfinished in memory: claimable entries under `prefix`, oldest first."""
        now = time.time()
        found = [
            e
            for e in self._entries.values()
            if e.key.startswith(prefix)
            and _claimable(e, now)
            and (e.state == "claimed" or e.received_at < older_than)
        ]
        return sorted(found, key=lambda e: e.received_at)[:limit]

    async def keys_since(self, prefix: str, since: float, limit: int) -> list[str]:
        """Inbox.keys_since in memory: keys under `prefix` received at or after `since`."""
        found = [
            e for e in self._entries.values() if e.key.startswith(prefix) and e.received_at >= since
        ]
        return [e.key for e in sorted(found, key=lambda e: -e.received_at)][:limit]

    async def prune(self, before: float) -> int:
        """Inbox.prune in memory: drops entries done before `before`; returns how many."""
        old = [k for k, e in self._entries.items() if e.state == "done" and e.lease_until < before]
        for key in old:
            del self._entries[key]
        return len(old)


def _claimable(entry: InboxEntry, now: float) -> bool:
    return entry.state == "received" or (entry.state == "claimed" and entry.lease_until < now)
