"""Every benchmark script still runs, end to end, at tiny sizes (figures are never asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ADMIN_URL, IN_CI

ROOT = Path(__file__).resolve().parents[2]

# script -> (extra arguments, text its output must contain)
SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    "throughput": (["--baseline"], ["ours / baseline", "messages/s", "LLM calls / message"]),
    "long_conversation": (["--baseline"], ["summary (ours)", "summary (baseline)"]),
    "reply_latency": ([], ["time to reply", "LLM calls per user message"]),
    "recall": ([], ["recall:", "total"]),
    "small_talk": ([], ["junk facts", "extra LLM calls / message"]),
    "key_check": ([], ["key check", "start-up check (headers)"]),
}


@pytest.fixture(scope="module")
def postgres_available() -> bool:
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_runs_at_tiny_sizes(name: str, backend: str, postgres_available: bool) -> None:
    if backend == "postgres" and not postgres_available:
        if IN_CI:
            pytest.fail("PostgreSQL is required in CI and is not reachable")
        pytest.skip("PostgreSQL not reachable")
    extra, expected = SCRIPTS[name]

    done = run_quick(name, "--backend", backend, *extra)

    assert done.returncode == 0, f"bench.{name} failed:\n{done.stdout}\n{done.stderr}"
    assert f"backend={backend}" in done.stdout
    for text in expected:
        assert text in done.stdout, f"bench.{name} printed no {text!r}:\n{done.stdout}"


def test_fault_benchmark_runs_at_tiny_sizes(postgres_available: bool) -> None:
    """bench.faults needs PostgreSQL (it takes its own database down)."""
    if not postgres_available:
        if IN_CI:
            pytest.fail("PostgreSQL is required in CI and is not reachable")
        pytest.skip("PostgreSQL not reachable")
    done = run_quick("faults")
    assert done.returncode == 0, f"bench.faults failed:\n{done.stdout}\n{done.stderr}"
    for text in ("| fault | sent | acked |", "| restart |", "| kill9 |", "SIGTERM: exit code"):
        assert text in done.stdout, f"bench.faults printed no {text!r}:\n{done.stdout}"


def run_quick(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m bench.<name> --quick ARGS` on the tests' PostgreSQL server."""
    return subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--quick", *args],
        cwd=ROOT,
        env={**os.environ, "BENCH_POSTGRES_ADMIN_URL": ADMIN_URL},
        capture_output=True,
        text=True,
        timeout=300,
    )
