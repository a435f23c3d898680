"""Two accounts typing two codes of one person at the same moment: only one joins."""

from __future__ import annotations

import asyncio
import re

from memory.commands.verbs import parse_command
from memory.engine import MemoryEngine
from memory.errors import CommandError
from memory.identity import UserRef


async def _code(engine: MemoryEngine, user: UserRef) -> str:
    result = await engine.run_command(user, parse_command("link"))
    found = re.search(r"`([a-z0-9]+)`", result.as_text())
    assert found, result.as_text()
    return found.group(1)


async def test_two_codes_redeemed_at_once_by_two_accounts_link_only_one(
    engine: MemoryEngine,
) -> None:
    owner = UserRef("slack", "U9", workspace="T9")
    first, second = UserRef("discord", "701"), UserRef("discord", "702")
    codes = [await _code(engine, owner), await _code(engine, owner)]

    async def redeem(user: UserRef, code: str) -> bool:
        try:
            await engine.run_command(user, parse_command(f"link {code}"))
            return True
        except CommandError:
            return False

    linked = await asyncio.gather(redeem(first, codes[0]), redeem(second, codes[1]))

    assert sorted(linked) == [False, True]
    person = await engine.people.resolve(owner)
    accounts = await engine.people.accounts(person)
    assert len([a for a in accounts if a.startswith("discord:")]) == 1
