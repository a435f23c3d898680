"""Imports run one way: bot -> adapters -> memory. The core never imports a platform SDK."""

from __future__ import annotations

import ast
import re
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
    assert "memory.agent.graph" in engine_imports and "langgraph.store.base" in engine_imports


SQL = re.compile(
    r"\b(SELECT\s+\S|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET|CREATE\s+(TABLE|INDEX)"
    r"|ALTER\s+(TABLE|DATABASE)|PRAGMA\s+\w|pg_advisory)"
)


def sql_strings(package: str) -> dict[str, list[str]]:
    """String literals that read as SQL, per file of `package`."""
    found: dict[str, list[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        hits = [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL.search(node.value)
        ]
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    return found


def test_memory_holds_no_sql() -> None:
    # Backends (PostgreSQL, SQLite) live in the storage layer behind the core's Protocols.
    assert sql_strings("memory") == {}


def test_the_sql_checker_sees_sql() -> None:
    # Guards against a vacuous pass: the storage layer's statements are found.
    found = sql_strings("bot")
    assert "bot/pruning.py" in found and "bot/locks.py" in found


def builds_engine_directly(source: str) -> bool:
    """True when `source` calls MemoryEngine(...) instead of MemoryEngine.on(storage)."""
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "MemoryEngine"
        for node in ast.walk(ast.parse(source))
    )


@pytest.mark.parametrize("package", ["bot", "adapters", "tests", "bench"])
def test_the_engine_is_built_from_one_storage_bundle(package: str) -> None:
    # Built field by field, an engine once missed the erasure's compaction in the bot itself.
    direct = [
        str(path.relative_to(ROOT))
        for path in (ROOT / package).rglob("*.py")
        if builds_engine_directly(path.read_text())
    ]
    assert direct == []


def test_the_engine_build_checker_sees_calls() -> None:
    assert builds_engine_directly("engine = MemoryEngine(model=m, store=s)")
    assert not builds_engine_directly("engine = MemoryEngine.on(storage, model=m)")


def test_adapters_and_bot_use_the_core_through_its_facade() -> None:
    # `memory/__init__.py` says what the platforms may use (`__all__`); reaching past it into a
    # sub-package couples them to the core's layout.
    for package in ("adapters", "bot"):
        for path, names in imported_modules(package).items():
            deep = {n for n in names if n.startswith("memory.")}
            assert not deep, f"{path} imports {sorted(deep)}: import them from `memory`"


def test_the_facade_exports_only_what_it_imports() -> None:
    import memory

    missing = [name for name in memory.__all__ if not hasattr(memory, name)]
    assert missing == [] and len(memory.__all__) > 20


def test_every_core_package_says_what_it_holds() -> None:
    packages = [p for p in (ROOT / "memory").iterdir() if (p / "__init__.py").exists()]
    assert len(packages) >= 6
    for package in packages:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert doc, f"{package.name}/__init__.py has no docstring"
