"""Imports run one way: bot -> adapters -> memory. The core never imports a platform SDK."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_SDKS = {"slack_bolt", "slack_sdk", "discord"}


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def test_memory_imports_no_adapter_bot_or_platform_sdk() -> None:
    for path, names in imported_modules("memory").items():
        bad = {n for n in names if top(n) in PLATFORM_SDKS | {"adapters", "bot"}}
        assert not bad, f"{path} imports {sorted(bad)}"


@pytest.mark.parametrize("adapter", ["slack", "discord", "console"])
def test_adapters_do_not_import_each_other_or_bot(adapter: str) -> None:
    others = {"slack", "discord", "console"} - {adapter}
    for path, names in imported_modules(f"adapters/{adapter}").items():
        bad = {
            n
            for n in names
            if top(n) == "bot" or any(n.startswith(f"adapters.{o}") for o in others)
        }
        assert not bad, f"{path} imports {sorted(bad)}"


def test_the_checker_sees_imports() -> None:
    # Guards against a vacuous pass: the walk must find the core's own imports.
    engine_imports = imported_modules("memory")["memory/engine.py"]
    assert "memory.graph" in engine_imports and "langgraph.store.base" in engine_imports
