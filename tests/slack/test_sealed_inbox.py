"""With a key set, a Slack event waiting in the inbox is sealed with a data key of its author's
account, so `/memory forget all` leaves copies of it (WAL, dead rows, backups) unreadable."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.storage import Storage, open_storage
from memory.engine import MemoryEngine
from memory.storage.sealing import KeyGone, KeyRing
from tests.conftest import engine_on
from tests.scripted_model import ScriptedChatModel
from tests.slack.conftest import Bot

KEY = "a passphrase of this deployment"


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    async with open_storage("", tmp_path / "data", sealer=KeyRing(KEY)) as opened:
        yield opened


@pytest.fixture
async def engine(storage: Storage, model: ScriptedChatModel) -> AsyncIterator[MemoryEngine]:
    built = engine_on(storage, model, sealer=KeyRing(KEY, store=storage.store))
    yield built
    await built.scheduler.close()


@pytest.fixture
def recorded(storage: Storage) -> list[str]:
    """Each payload exactly as the inbox wrote it to its table (the row is cleared once the
    event is answered; a WAL segment or a backup taken meanwhile keeps this text)."""
    written: list[str] = []
    dump = storage.inbox.dump  # type: ignore[attr-defined]

    async def keep(payload: dict[str, Any], author: str | None = None) -> str:
        text: str = await dump(payload, author)
        written.append(text)
        return text

    storage.inbox.dump = keep  # type: ignore[attr-defined]
    return written


async def test_forget_all_leaves_no_readable_copy_of_a_waiting_event(
    bot: Bot, storage: Storage, recorded: list[str]
) -> None:
    await bot.dm("my locker word is zebracorn", user="U1", channel="D1")
    await bot.dm("I like plain toast", user="U2", channel="D2")
    await bot.slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "chat.postMessage"]) >= 2
    )
    alice, bob = (json.loads(text) for text in recorded)
    assert "zebracorn" not in json.dumps(alice) and alice["sealed"].startswith("dk1-")
    before = KeyRing(KEY, store=storage.store)  # another process, with the master key
    await before.ready([alice, bob])
    assert "zebracorn" in json.dumps(before.open(alice))

    await bot.command("forget all confirm", user="U1")

    after = KeyRing(KEY, store=storage.store)
    await after.ready([alice, bob])
    with pytest.raises(KeyGone):
        after.open(alice)
    assert "plain toast" in json.dumps(after.open(bob))
