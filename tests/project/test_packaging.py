"""The built wheel: SPDX license metadata without setuptools' deprecation warning, the LICENSE
file, and py.typed in each package so a deployer's mypy sees the types (PEP 561)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "adapters", "memory")


def test_wheel_metadata_license_and_types(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    # No build isolation: the backend is the pinned setuptools of the dev extra (offline).
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v"),
            *("-w", str(tmp_path / "dist"), str(source)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "deprecated" not in output.lower(), output
    (wheel,) = (tmp_path / "dist").glob("memory_bot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        headers = archive.read(metadata).decode()
    assert "License-Expression: MIT" in headers
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    for package in PACKAGES:
        assert f"{package}/py.typed" in names
