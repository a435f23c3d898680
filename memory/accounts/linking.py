"""`/memory link` and `/memory unlink`: one person's accounts on two platforms become one memory.

`/memory link` gives a one-time code (valid VALID_FOR, only its hash is stored); the same
person types `/memory link <code>` on another platform, and the second account's person is
merged into the first's (memory.accounts.people).
A code works once and only within its time; a wrong
or expired code changes nothing, and each account may guess at most MAX_GUESSES times per
GUESS_WINDOW. `/memory unlink <platform>` takes that platform's account away from the person:
the memory stays with the accounts that remain, the unlinked one starts empty.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from langgraph.store.base import BaseStore

from memory.accounts.people import People, platform_of
from memory.commands.verbs import MemoryCommand
from memory.errors import CommandError
from memory.identity import UserRef
from memory.ids import ALPHABET
from memory.learning.scheduler import ExtractionScheduler
from memory.storage.locks import UserLocks

CODES = ("link_codes",)
GUESSES = ("link_guesses",)
# Every redeem holds this lock, in every process (see Linker._redeem).
REDEEM_LOCK = "link:redeem"
CODE_LENGTH = 8  # 31^8 ≈ 8.5e11 codes against MAX_GUESSES tries per GUESS_WINDOW
VALID_FOR = timedelta(minutes=10)
MAX_GUESSES = 5
GUESS_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class LinkResult:
    """What link or unlink did, as a short titled notice."""

    title: str
    text: str

    def as_text(self) -> str:
        """The notice as plain text (the body, without the title), for a text-only reply."""
        return self.text


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().lower().encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class Linker:
    """Carries out link and unlink for the person an account resolves to."""

    def __init__(
        self,
        store: BaseStore,
        people: People,
        locks: UserLocks,
        scheduler: ExtractionScheduler,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = store
        self.people = people
        self.locks = locks
        self.scheduler = scheduler
        self.clock = clock

    async def run(self, user: UserRef, person: str, command: MemoryCommand) -> LinkResult:
        """Carry out `command` for `user`, whose account resolves to `person`.

        `unlink <platform>` detaches that platform's account(s); `link` with no text issues
        a code (valid VALID_FOR, 10 minutes); `link <code>` redeems one and merges the
        code's issuer and `person` into one person. Raises CommandError (nothing changed)
        for a wrong, used or expired code, too many guesses (MAX_GUESSES per GUESS_WINDOW
        per account), a platform with no linked account, unlinking the only account, or a
        link that would give one person two accounts on one platform."""
        if command.action == "unlink":
            return await self._unlink(person, command.text or "")
        if command.text:
            return await self._redeem(user, person, command.text)
        return await self._issue(user)

    async def _issue(self, user: UserRef) -> LinkResult:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        expires = self.clock() + VALID_FOR
        value = {"account": user.key, "platform": user.platform, "expires": expires.isoformat()}
        await self.store.aput(CODES, _digest(code), value, index=False)
        minutes = int(VALID_FOR.total_seconds() // 60)
        return LinkResult(
            "Link code",
            f"Your link code is `{code}`. Within {minutes} minutes, type `/memory link {code}` "
            "yourself on your other platform; then both accounts share one memory. "
            "The code works once. Don't share it: whoever types it joins your memory.",
        )

    async def _redeem(self, user: UserRef, person: str, code: str) -> LinkResult:
        # Every redeem, in every process, one at a time (linking is rare): the guess count,
        # the checks and the merge can then never interleave with another redeem's, so two
        # codes of one person typed at once by two accounts cannot both pass the checks.
        async with self.locks.hold(REDEEM_LOCK):
            return await self._redeem_alone(user, person, code)

    async def _redeem_alone(self, user: UserRef, person: str, code: str) -> LinkResult:
        await self._count_guess(user.key)
        digest = _digest(code)
        found = await self.store.aget(CODES, digest)
        if found is None or datetime.fromisoformat(found.value["expires"]) <= self.clock():
            if found is not None:
                await self.store.adelete(CODES, digest)
            raise CommandError("That link code is wrong or has expired. Nothing was changed.")
        if found.value["platform"] == user.platform:
            raise CommandError(
                f"That code is for an account on another platform than {user.platform}: "
                "type it there, as yourself. Nothing was changed."
            )
        # The issuer's person now (they may have linked or unlinked since).
        keeper = await self.people.person_of(str(found.value["account"]))
        if keeper == person:
            raise CommandError("Those accounts are already linked.")
        await self._check_platforms(keeper, person)
        await self.store.adelete(CODES, digest)
        await self._merge(person, keeper)
        await self.store.adelete(GUESSES, user.key)
        return LinkResult(
            "Accounts linked",
            "Linked: your accounts now share one memory. What you said in a DM is used only in "
            "DMs with you, on either platform. `/memory show` lists your linked accounts; "
            "`/memory unlink <platform>` separates them again.",
        )

    async def _count_guess(self, account: str) -> None:
        now = self.clock()
        found = await self.store.aget(GUESSES, account)
        since, count = now, 0
        if found is not None:
            since = datetime.fromisoformat(found.value["since"])
            count = int(found.value["count"])
            if now - since > GUESS_WINDOW:
                since, count = now, 0
        if count >= MAX_GUESSES:
            wait = max(1, int((since + GUESS_WINDOW - now).total_seconds() // 60) + 1)
            raise CommandError(
                f"Too many link codes tried; try again in {wait} minute(s). Nothing was changed."
            )
        value = {"since": since.isoformat(), "count": count + 1}
        await self.store.aput(GUESSES, account, value, index=False)

    async def _check_platforms(self, keeper: str, joining: str) -> None:
        kept = {platform_of(a) for a in await self.people.accounts(keeper)}
        for account in await self.people.accounts(joining):
            if platform_of(account) in kept:
                raise CommandError(
                    f"You already have a {platform_of(account)} account linked; "
                    f"`/memory unlink {platform_of(account)}` it first. Nothing was changed."
                )

    async def _merge(self, source: str, target: str) -> None:
        """Everything of `source` moves to `target`, under both people's locks."""
        self.scheduler.drop(source)
        first, second = sorted((source, target))
        async with self.locks.hold(first), self.locks.hold(second):
            await self.people.merge(source, target)
        self.scheduler.adopt(target)  # learning that was pending for either continues

    async def _unlink(self, person: str, platform: str) -> LinkResult:
        platform = platform.strip().lower()
        async with self.locks.hold(person):
            accounts = await self.people.accounts(person)
            leaving = [a for a in accounts if platform_of(a) == platform]
            if not leaving:
                raise CommandError(f"No {platform} account is linked to you. Nothing was changed.")
            if len(leaving) == len(accounts):
                raise CommandError(
                    "That is your only account, so there is nothing to unlink it from."
                )
            for account in leaving:
                await self.people.detach(account, person)
        return LinkResult(
            "Account unlinked",
            f"Unlinked your {platform} account. What I remember stays with your other "
            f"account(s); on {platform} I start again with an empty memory.",
        )
