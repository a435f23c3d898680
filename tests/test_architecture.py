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
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "MemoryEngine")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "MemoryEngine")
        )
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
    assert builds_engine_directly("engine = memory.MemoryEngine(model=m, store=s)")
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


# What adapters and the bot may use of the engine (memory.engine.MemoryEngine's docstring).
ENGINE_SURFACE = {
    "reply", "run_command", "message_deleted", "message_edited", "on_learned", "on_changed",
    "learn_now", "memory", "history", "kinds", "start", "in_flight", "drain", "flush", "aclose",
    "store", "sealer", "stats",
}  # fmt: skip


def engine_attributes(source: str) -> set[str]:
    """Attributes read off `engine` or `self.engine` in `source`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        if (isinstance(owner, ast.Name) and owner.id == "engine") or (
            isinstance(owner, ast.Attribute) and owner.attr == "engine"
        ):
            found.add(node.attr)
    return found


@pytest.mark.parametrize("package", ["adapters", "bot"])
def test_platforms_use_only_the_engine_surface(package: str) -> None:
    # Reaching into the engine's parts (its repository, scheduler, learner) couples a platform
    # to how the core is built; what it needs is a method on the engine.
    for path in (ROOT / package).rglob("*.py"):
        beyond = engine_attributes(path.read_text()) - ENGINE_SURFACE
        assert not beyond, f"{path.relative_to(ROOT)} uses engine.{sorted(beyond)}"


def test_the_surface_checker_sees_attributes() -> None:
    assert engine_attributes("await self.engine.repository.load(k); engine.scheduler") == {
        "repository",
        "scheduler",
    }
    import memory

    # Every name of the surface is the engine's (store, kinds and stats are set per instance).
    methods = ENGINE_SURFACE - {"store", "kinds", "stats"}
    assert [name for name in methods if not hasattr(memory.MemoryEngine, name)] == []
