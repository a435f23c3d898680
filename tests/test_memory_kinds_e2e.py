"""MEMORY_KINDS as a deployer uses it: the example support team's kinds through `bot chat`
over the OpenAI wire, and bad values stopping the start with one line naming the setting."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

from tests.fakes.openai_server import ChatRequest, FakeOpenAI, FakeResponse
from tests.processes import bot_env, start_bot
from tests.rules import chat_reply

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "support_team.py"


class SupportModel:
    """The model for the example's kinds: "I work at X" fills the Customer profile, "my X is
    broken" opens a ticket; every extraction request's tools are recorded."""

    def __init__(self) -> None:
        self.offered: list[list[str]] = []

    def __call__(self, request: ChatRequest) -> FakeResponse:
        tools = request.tool_names()
        if not tools:
            return FakeResponse.text(chat_reply(request.system_text()))
        self.offered.append(tools)
        calls: list[tuple[str, dict[str, object]]] = []
        for line in request.last_user_text().splitlines():
            if line.startswith("assistant:"):
                continue
            if m := re.search(r"I work at (\w+)", line):
                calls.append(("Customer", {"company": m.group(1)}))
            if m := re.search(r"my (\w+) is broken", line):
                calls.append(("OpenTicket", {"summary": f"{m.group(1)} is broken"}))
        return FakeResponse.calls(calls) if calls else FakeResponse.text("")


async def _chat(env: dict[str, str], cwd: Path, *lines: str) -> tuple[int, str]:
    process = await start_bot("chat", "--user", "al", env=env, cwd=cwd)
    out, _ = await asyncio.wait_for(process.communicate("\n".join(lines).encode() + b"\n"), 90)
    return process.returncode or 0, out.decode()


async def test_the_support_team_example_end_to_end(tmp_path: Path) -> None:
    model = SupportModel()
    async with FakeOpenAI(model) as fake:
        env = bot_env(fake.base_url, tmp_path / "data", MEMORY_KINDS=str(EXAMPLE))
        code, first = await _chat(env, tmp_path, "I work at Acme", "my export is broken")
        assert code == 0, first
        code, second = await _chat(env, tmp_path, "What is open?", "/memory show")
        assert code == 0, second
    assert model.offered and all(
        {"Customer", "OpenTicket"} <= set(t) and "Fact" not in t for t in model.offered
    )
    assert "ticket: export is broken" in second  # recalled into the reply
    assert "Customer:" in second and "company: Acme" in second
    assert "Open tickets:" in second and re.search(r"\[\w{5}\] export is broken", second)


BAD_KINDS = {
    "missing": ("", "no file"),
    "broken": ("KINDS = [\n", "failed to load (SyntaxError"),
    "twice": (
        "from pydantic import BaseModel\nfrom memory.kinds import collection\n"
        "class Note(BaseModel):\n    text: str\n"
        "KINDS = [collection(Note, name='notes'), collection(Note, name='notes')]\n",
        "two kinds named `notes`",
    ),
    "untooled": (
        "from pydantic import BaseModel, ConfigDict\nfrom memory.kinds import collection\n"
        "class Opaque:\n    pass\n"
        "class Note(BaseModel):\n    model_config = ConfigDict(arbitrary_types_allowed=True)\n"
        "    text: str\n    thing: Opaque\n"
        "KINDS = [collection(Note)]\n",
        "cannot be offered to the model as a tool",
    ),
    "not a list": ("KINDS = 3\n", "must be a list of kinds"),
    "untypeable field": (
        "from pydantic import BaseModel\nfrom memory.kinds import profile\n"
        "class Me(BaseModel):\n    companyName: str | None = None\n"
        "KINDS = [profile(Me, name='me')]\n",
        "profile field `companyName` cannot be typed as an id",
    ),
    "untypeable alias": (
        "from pydantic import BaseModel\nfrom memory.kinds import collection\n"
        "class Note(BaseModel):\n    text: str\n"
        "KINDS = [collection(Note, name='notes', aliases=('My-Notes',))]\n",
        "alias `My-Notes`",
    ),
    "cap of zero": (
        "from pydantic import BaseModel\nfrom memory.kinds import collection\n"
        "class Note(BaseModel):\n    text: str\n"
        "KINDS = [collection(Note, name='notes', cap=0)]\n",
        "a cap of 0 would keep nothing",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_KINDS))
async def test_a_bad_memory_kinds_stops_the_start_in_one_line(tmp_path: Path, case: str) -> None:
    source, reason = BAD_KINDS[case]
    if source:
        (tmp_path / "team_memory.py").write_text(source)
    env = bot_env("http://127.0.0.1:9/v1", tmp_path / "data", MEMORY_KINDS="./team_memory.py")
    code, output = await _chat(env, tmp_path, "hello")
    assert code == 2, output
    [line] = output.strip().splitlines()
    assert line.startswith("bot: MEMORY_KINDS=./team_memory.py: ") and reason in line, line


async def test_a_module_in_the_starting_directory_is_found_by_the_bot_command(
    tmp_path: Path,
) -> None:
    # The `bot` console script, as the Procfile and the Dockerfile run it (not `python -m`,
    # which puts the current directory on sys.path by itself).
    package = tmp_path / "teampkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "kinds.py").write_text(
        "from pydantic import BaseModel\nfrom memory.kinds import collection\n"
        "class Note(BaseModel):\n    '''A note.'''\n    text: str\n"
        "KINDS = [collection(Note, name='notes')]\n"
    )
    env = bot_env(
        "http://127.0.0.1:9/v1",
        tmp_path / "data",
        MEMORY_KINDS="teampkg.kinds:KINDS",
        CHECK_MODEL_AT_START="false",
    )
    script = Path(sys.executable).parent / "bot"
    process = await asyncio.create_subprocess_exec(
        str(script),
        "chat",
        "--user",
        "al",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
        env=env,
    )
    out, _ = await asyncio.wait_for(process.communicate(b"/memory show notes\n"), 90)
    output = out.decode()
    assert process.returncode == 0, output
    assert "MEMORY_KINDS" not in output and "I don't remember anything" in output
