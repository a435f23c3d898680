"""Two bot processes on one PostgreSQL, 200 concurrent profile updates for one user: none lost."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.storage import open_storage
from memory.storage.repository import MemoryRepository
from tests.conftest import unique
from tests.memory.helpers import person

ROOT = Path(__file__).resolve().parents[2]


async def test_two_processes_lose_no_update(postgres_url: str, tmp_path: Path) -> None:
    name = unique("alice")
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.faults.worker",
            postgres_url,
            name,
            str(first),
            "100",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=ROOT,
        )
        for first in (0, 100)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(w.communicate() for w in workers)), 240)
    for worker, (output, _) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, output.decode()[-2000:]

    async with open_storage(postgres_url, tmp_path) as storage:
        memory = await MemoryRepository(storage.store).load(person(name).key)
    interests = memory.profiles["dm"].data["interests"]
    assert sorted(interests) == sorted(f"hobby{n}" for n in range(200))
