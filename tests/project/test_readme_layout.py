"""The README's `memory/` layout names every module of the core where it lives."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def named_in_layout(readme: str) -> set[str]:
    """`package/module` (or `module` at the top level) for every `x.py` the layout names."""
    section = readme[readme.index("`memory/` by concept") : readme.index("Each `/memory` verb")]
    named: set[str] = set()
    package = ""
    for line in section.splitlines():
        heading = re.match(r"- `memory/(\w+)/`", line.strip())
        if heading:
            package = heading.group(1)
        elif line.startswith("- top level"):
            package = ""
        named.update(f"{package}/{m}" if package else m for m in re.findall(r"`(\w+)\.py`", line))
    return named


def test_the_layout_names_every_core_module() -> None:
    tree = {
        path.relative_to(ROOT / "memory").with_suffix("").as_posix()
        for path in (ROOT / "memory").rglob("*.py")
        if path.name != "__init__.py"
    }
    assert len(tree) > 40
    assert tree - named_in_layout((ROOT / "README.md").read_text()) == set()


def test_the_layout_check_sees_a_missing_module() -> None:
    readme = (
        "`memory/` by concept\n- top level: `engine.py`\n"
        "- `memory/agent/`: `graph.py`\nEach `/memory` verb"
    )
    assert named_in_layout(readme) == {"engine", "agent/graph"}
