"""The Dockerfile and compose file, linted without Docker (images can't be pulled in tests):
hadolint for the Dockerfile, `docker compose config` (Compose v2) for the compose file. Both
binaries come from wheels in the dev extra, so this runs offline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_hadolint_passes() -> None:
    done = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", "Dockerfile"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_builds_what_the_bot_needs() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", text, re.M)
    assert "-c constraints.txt" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, re.M)
    assert text.rstrip().endswith('CMD ["bot", "run"]')


def compose_config(project: Path) -> dict[str, Any]:
    """The compose file as Compose resolves it, with `project` as the folder it runs in."""
    done = subprocess.run(
        [
            str(BIN / "docker-compose"),
            *("-f", str(ROOT / "docker-compose.yml"), "--project-directory", str(project)),
            *("config", "--format", "json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=project,
    )
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def test_compose_runs_the_bot_on_postgres_with_the_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MODEL=openai:from-dotenv\nDATABASE_URL=sqlite-is-overridden\n")
    services = compose_config(tmp_path)["services"]
    assert services["db"]["image"].startswith("postgres:")
    bot = services["bot"]
    assert bot["build"]["context"] == str(tmp_path)
    environment = bot["environment"]
    assert environment["MODEL"] == "openai:from-dotenv"  # read from .env
    assert environment["DATABASE_URL"].startswith("postgresql://")
    assert "@db:5432/" in environment["DATABASE_URL"]
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"


def test_compose_starts_without_an_env_file(tmp_path: Path) -> None:
    # A missing .env is not an error for `config`; the bot then says which setting is missing.
    assert "bot" in compose_config(tmp_path)["services"]


def test_the_build_context_leaves_out_secrets_and_the_virtualenv() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv/", ".git/", "data/"} <= ignored
