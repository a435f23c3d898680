"""Looking for text anywhere in the database: every text, JSON and binary column of every table."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import psycopg
import pytest

from bot.storage import Storage

_PG_COLUMNS = """
SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = 'public'
  AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea')
"""


def places_holding(storage: Storage, needle: str, *, url: str = "", data_dir: Path) -> list[str]:
    """`table.column` for every column where some row contains `needle` (as UTF-8 bytes)."""
    if storage.kind == "postgres":
        return _postgres(url, needle)
    return _sqlite(data_dir, needle)


def places_on_disk(data_dir: Path, needle: str) -> list[str]:
    """places_holding for a bot run as its own process on SQLite under `data_dir`."""
    return _sqlite(data_dir, needle)


def places(
    storage: Storage, request: pytest.FixtureRequest, tmp_path: Path, needle: str
) -> list[str]:
    """places_holding for the `storage` fixture of tests/conftest.py (either backend)."""
    url = request.getfixturevalue("postgres_url") if storage.kind == "postgres" else ""
    return places_holding(storage, needle, url=url, data_dir=tmp_path / "data")


async def until_gone(
    storage: Storage, request: pytest.FixtureRequest, tmp_path: Path, needle: str
) -> list[str]:
    """Wait (bounded) until no column holds `needle`, for work that runs after an HTTP ack;
    returns where it still is when the wait ends."""
    for _ in range(500):
        found = places(storage, request, tmp_path, needle)
        if not found:
            return []
        await asyncio.sleep(0.02)
    return found


def _postgres(url: str, needle: str) -> list[str]:
    found = []
    with psycopg.connect(url) as conn:
        for table, column, kind in conn.execute(_PG_COLUMNS).fetchall():
            if kind == "bytea":
                where = f"position(convert_to(%s, 'UTF8') in \"{column}\") > 0"
            else:
                where = f'position(%s in "{column}"::text) > 0'
            row = conn.execute(f'SELECT count(*) FROM "{table}" WHERE {where}', (needle,))
            if row.fetchone()[0]:  # type: ignore[index]
                found.append(f"{table}.{column}")
    return found


def _sqlite(data_dir: Path, needle: str) -> list[str]:
    found = []
    for path in sorted(data_dir.glob("*.sqlite")):
        with sqlite3.connect(path) as conn:
            tables = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for table in tables:
                for column in [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]:
                    query = (
                        f'SELECT count(*) FROM "{table}" WHERE instr(CAST("{column}" AS BLOB), ?)'
                    )
                    hit = conn.execute(query, (needle.encode(),)).fetchone()[0]
                    if hit:
                        found.append(f"{path.name}:{table}.{column}")
    return found
