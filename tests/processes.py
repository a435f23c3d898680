"""Starting the bot as a user does (`python -m bot ...`) in tests, against local fake servers."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path


def bot_env(llm_base_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without provider settings, pointed at a fake model server."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LANGSMITH"))}
    return {
        **inherited,
        "MODEL": "openai:gpt-test",
        "OPENAI_BASE_URL": llm_base_url,
        "OPENAI_API_KEY": "test",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        **settings,
    }


async def start_bot(
    *args: str, env: dict[str, str], cwd: Path, stdin: int = asyncio.subprocess.PIPE
) -> asyncio.subprocess.Process:
    """`python -m bot ARGS`, stdout and stderr together in `process.stdout`."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=cwd,
        env=env,
    )
