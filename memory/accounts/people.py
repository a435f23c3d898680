"""People behind platform accounts: every account key resolves to one person id.

Everything a person owns (memory, settings, history, pending learning, erasure markers, the
list of their conversations) is stored under the person id; conversations (LangGraph threads)
keep their platform keys. Two small tables in the store, each read by its primary key:

    ("accounts",) / <account key>          -> {"person": <person id>}
    ("people", <person id>) / <key>        -> {"kind": "account" | "alias"}

The second lists a person's accounts, and the ids their rows and conversation turns were
stored under before (an account joined by `/memory link`, a pre-Grid Slack key), so forget
all finds every turn of theirs.

A person's id is the key of the first account that resolved to it: rows written before
people existed are already under it, so today's databases upgrade in place. An account
unlinked from a person starts again under a fresh id (`p-<hex>`).
"""

from __future__ import annotations

import re
import secrets
from typing import Any, Literal

from langgraph.store.base import BaseStore

from memory.identity import UserRef
from memory.storage.namespaces import ROOT
from memory.storage.repository import MemoryRepository

ACCOUNTS = ("accounts",)
PEOPLE = "people"
LIST_LIMIT = 100_000
PAGE = 500

Link = Literal["account", "alias"]

# A Slack key from before Grid users were keyed by org: `slack:{enterprise}-{team}:{user}`
# (Slack ids hold no "-", so the first "-" splits the org from the workspace).
_PRE_GRID = re.compile(r"^slack:([^:-]+)-([^:-]+):([^:]+)$")


def platform_of(account: str) -> str:
    """`slack:T1:U1` -> `slack`."""
    return account.split(":", 1)[0]


class People:
    """Resolves accounts to people and moves a person's rows when two people become one."""

    def __init__(self, store: BaseStore, repository: MemoryRepository) -> None:
        self.store = store
        self.repository = repository

    async def resolve(self, user: UserRef) -> str:
        """The person id of `user`'s account; the first time, the account key itself."""
        return await self.person_of(user.key)

    async def person_of(self, account: str) -> str:
        """The person id an account key resolves to; an account never seen before becomes
        a person of its own, under its own key (written to the store)."""
        found = await self.store.aget(ACCOUNTS, account)
        if found is not None:
            return str(found.value["person"])
        await self.attach(account, account)
        return account

    async def attach(self, account: str, person: str, kind: Link = "account") -> None:
        """Make `account` (or a former id, for "alias") one of `person`'s."""
        if kind == "account":
            await self.store.aput(ACCOUNTS, account, {"person": person}, index=False)
        await self.store.aput((PEOPLE, person), account, {"kind": kind}, index=False)

    async def detach(self, account: str, person: str) -> str:
        """Take `account` away from `person`; it starts again as a new person (returned)."""
        await self.store.adelete((PEOPLE, person), account)
        fresh = f"p-{secrets.token_hex(8)}"
        await self.attach(account, fresh)
        return fresh

    async def links(self, person: str) -> dict[str, Link]:
        """The person's accounts and former ids: key -> kind."""
        found = await self.store.asearch((PEOPLE, person), limit=LIST_LIMIT)
        return {item.key: item.value.get("kind", "account") for item in found}

    async def accounts(self, person: str) -> list[str]:
        """The account keys that resolve to `person`, sorted."""
        return sorted(k for k, kind in (await self.links(person)).items() if kind == "account")

    async def former_ids(self, person: str) -> list[str]:
        """Other ids this person's rows were stored under before a merge, sorted: a turn that
        was in flight during `/memory link` may still write there (no one else ever gets
        these ids: an account's mapping is never removed, only pointed elsewhere)."""
        return sorted(k for k in await self.links(person) if k != person)

    async def authored_ids(self, person: str) -> set[str]:
        """Every id a turn of this person may be stored under in a conversation."""
        return {person, *(await self.links(person))}

    async def merge(self, source: str, target: str) -> None:
        """Move everything of person `source` to person `target` (the caller holds both
        people's locks). Facts, todos, history, pending learning and conversation notes are
        moved as they are; profile fields the target lacks are filled from the source; a
        paused source stays paused. `source`'s accounts and id become the target's."""
        if source == target:
            return
        await self._merge_profiles(source, target)
        namespaces = await self.store.alist_namespaces(prefix=(ROOT, source), limit=LIST_LIMIT)
        for namespace in namespaces:
            section = namespace[-1]
            into = (ROOT, target, *namespace[2:])
            while found := await self.store.asearch(namespace, limit=PAGE):
                for item in found:
                    if self._moves(section, item.key):
                        kept = await self.store.aget(into, item.key)
                        if kept is None:
                            await self.store.aput(into, item.key, item.value, index=False)
                    await self.store.adelete(namespace, item.key)
        moved = await self.links(source)
        for key, kind in moved.items():
            await self.attach(key, target, kind)
            await self.store.adelete((PEOPLE, source), key)
        if source not in moved:  # a former id that is no account (a pre-Grid key)
            await self.attach(source, target, "alias")
        await self.repository.changed(target)

    def _moves(self, section: str, key: str) -> bool:
        # Profiles were merged field by field; an erasure log only matters to work in flight
        # under the old id; a revision token is made anew.
        profiles = {kind.name for kind in self.repository.kinds.profiles}
        return section not in (*profiles, "erasure") and key != "rev"

    async def _merge_profiles(self, source: str, target: str) -> None:
        theirs = await self.repository.load(source)
        ours = await self.repository.load(target)
        for kind in self.repository.kinds.profiles:
            for audience, profile in theirs.of(kind.name).items():
                kept = ours.of(kind.name).get(audience)
                if kept is None:
                    await self.repository.put(target, kind.name, audience, profile)
                    continue
                data: dict[str, Any] = dict(profile.data)
                data.update({k: v for k, v in kept.data.items() if v not in (None, "", [])})
                sources = {**profile.field_sources, **kept.field_sources}
                merged = kept.model_copy(update={"data": data, "field_sources": sources})
                await self.repository.put(target, kind.name, audience, merged)

    async def upgrade(self) -> int:
        """Rows stored under pre-Grid Slack keys (`slack:E1-T1:W1`) join the org user's person
        (`slack:E1:W1`), each workspace's into one. Idempotent; returns how many keys moved."""
        namespaces = await self.store.alist_namespaces(
            prefix=(ROOT,), max_depth=2, limit=LIST_LIMIT
        )
        moved = 0
        for old in sorted({ns[1] for ns in namespaces if len(ns) >= 2}):
            match = _PRE_GRID.match(old)
            if match is None:
                continue
            enterprise, _team, user = match.groups()
            person = await self.person_of(f"slack:{enterprise}:{user}")
            await self.merge(old, person)
            moved += 1
        return moved
