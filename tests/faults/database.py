"""Making a test's own PostgreSQL database unavailable to the bot, and available again.

Only the test's own database is touched: connections are refused (ALLOW_CONNECTIONS false)
and the open ones terminated, as a database restart or outage looks to the bot.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


def _admin(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def kill_connections(url: str) -> int:
    """Terminate every connection to the database of `url`; how many there were."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


def set_available(url: str, available: bool) -> None:
    """Let the database of `url` accept connections, or refuse them and drop the open ones."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(available).lower()}')
    if not available:
        kill_connections(url)


@contextmanager
def unavailable(url: str) -> Iterator[None]:
    """The database of `url` is down for the body, and back afterwards whatever happens."""
    set_available(url, False)
    try:
        yield
    finally:
        set_available(url, True)
