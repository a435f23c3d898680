"""Fault-test fixtures: a PostgreSQL database of the test's own, which a test may take down."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import unique


@pytest.fixture
def own_database(postgres_url: str) -> Iterator[str]:
    name = unique("dbfault")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
