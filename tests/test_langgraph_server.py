"""The agent graph under LangGraph Server: `langgraph dev` (langgraph-cli[inmem]) serves it from
`langgraph.json`, offline, with the model pointed at the OpenAI-compatible fake. A run reads
memory from the server's store and records the message there (the nodes use runtime.store)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from memory.schemas import Provenance, StoredItem
from tests.fakes.openai_server import FakeOpenAI
from tests.test_bot_e2e import free_port
from tests.test_console_e2e import responder

ROOT = Path(__file__).resolve().parents[1]
LANGGRAPH = Path(sys.executable).parent / "langgraph"
# What a user's project folder holds for `langgraph dev` (it is installed, as `make setup` does).
PROJECT_FILES = ("langgraph.json", "pyproject.toml", "README.md", "bot", "adapters", "memory")
# No analytics, no version check, no tracing: the server must not reach the internet.
OFFLINE = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
}


def copy_project(target: Path) -> Path:
    """A copy of the project: `langgraph dev` reloads on file changes, so never the source."""
    target.mkdir()
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target / name)
    return target


def server_env(llm_base_url: str) -> dict[str, str]:
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "LANGSMITH", "LANGCHAIN", "LANGGRAPH"))
    }
    return {
        **inherited,
        **OFFLINE,
        "MODEL": "openai:gpt-test",
        "OPENAI_BASE_URL": llm_base_url,
        "OPENAI_API_KEY": "test",
    }


@asynccontextmanager
async def langgraph_dev(project: Path, env: dict[str, str]) -> AsyncIterator[LangGraphClient]:
    """`langgraph dev --no-browser` on a free port; stopped (its whole process group) after."""
    port = free_port()
    log = (project / "server.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        *(str(LANGGRAPH), "dev", "--no-browser", "--port", str(port)),
        cwd=project,
        env=env,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # the reloader starts a child: stop the group
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, process, project / "server.log")
        yield get_client(url=base)
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        log.close()


def tail(log: Path) -> str:
    return log.read_text()[-4000:]


async def wait_ready(base: str, process: asyncio.subprocess.Process, log: Path) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(1200):
            if process.returncode is not None:
                raise AssertionError(f"langgraph dev exited:\n{await asyncio.to_thread(tail, log)}")
            try:
                if (await http.get(f"{base}/ok", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"langgraph dev never answered:\n{await asyncio.to_thread(tail, log)}")


def turn(text: str, message_id: str) -> dict[str, Any]:
    """A run's context: who speaks, where, and the message (the JSON form of TurnContext)."""
    return {
        "message": {
            "user": {"platform": "studio", "id": "alice", "display_name": "Alice"},
            "conversation": {"key": "studio:alice", "audience": "dm", "platform": "studio"},
            "text": text,
            "message_id": message_id,
        }
    }


async def test_langgraph_dev_serves_the_agent_on_the_servers_store(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    known = StoredItem(
        kind="fact",
        data={"content": "Alice keeps bees"},
        provenance=Provenance(platform="studio", conversation="studio:alice", audience="dm"),
    )
    async with FakeOpenAI(responder) as llm, langgraph_dev(project, server_env(llm.base_url)) as c:
        await c.store.put_item(
            ["users", "studio:alice", "facts"], "f1", known.model_dump(mode="json"), index=False
        )
        thread = await c.threads.create()
        text = "What do you know about my hobbies?"
        result = await c.runs.wait(
            thread["thread_id"],
            "agent",
            input={"messages": [{"role": "user", "content": text}]},
            context=turn(text, "m1"),
        )
        assert isinstance(result, dict)
        # recall read the server's store: the fact is in the prompt, and so in the reply
        assert "Alice keeps bees" in result["reply"]
        assert result["messages"][-1]["content"] == result["reply"]
        assert llm.requests, "the model was asked through the fake"

        # remember wrote to the server's store: the message waits there to be learned
        found = await c.store.search_items(["users", "studio:alice", "pending"])
        pending = [item["value"] for item in found["items"]]
        assert [(p["text"], p["message_id"], p["author"]) for p in pending] == [
            (text, "m1", "Alice")
        ]
        assert "Alice keeps bees" in pending[0]["reply"]

        # Studio draws its forms from the graph's schemas: input, output and context.
        (assistant,) = await c.assistants.search(graph_id="agent")
        schemas = await c.assistants.get_schemas(assistant["assistant_id"])
        assert "messages" in schemas["input_schema"]["properties"]
        assert "reply" in schemas["output_schema"]["properties"]
        assert "message" in schemas["context_schema"]["properties"]
