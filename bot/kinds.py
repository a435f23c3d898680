"""MEMORY_KINDS: the deployer's own memory kinds, loaded once at start.

The setting names a Python file (`./team_memory.py`, its `KINDS`; or `./team_memory.py:ATTR`)
or a module attribute (`mypkg.memory:KINDS`). The attribute is a list of kinds built with
memory.kinds' helpers (`profile(...)`, `collection(...)`), or a function returning one.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memory import ConfigurationError, KindError, KindRegistry, MemoryKind

DEFAULT_ATTRIBUTE = "KINDS"


def load_kinds(spec: str | None) -> KindRegistry | None:
    """The kinds MEMORY_KINDS names, checked; None when it is unset (the built-in kinds).

    Raises ConfigurationError naming MEMORY_KINDS and the problem: a file or module that is
    missing or fails to import, a missing attribute, something that is not a list of kinds,
    or kinds the bot cannot use (memory.kinds.KindError: bad schemas, two kinds with one name).
    """
    if spec is None or not spec.strip():
        return None
    spec = spec.strip()
    try:
        found = _attribute(spec)
        if callable(found) and not isinstance(found, list | tuple):
            found = _guarded(found, f"calling {spec}")
        if not isinstance(found, list | tuple) or not all(isinstance(k, MemoryKind) for k in found):
            raise ConfigurationError(
                "it must be a list of kinds made with memory.kinds.profile(...) and "
                f"collection(...), not {type(found).__name__}"
            )
        return KindRegistry(found)
    except (ConfigurationError, KindError) as exc:
        # One line: a pydantic or import error may span several.
        raise ConfigurationError(f"MEMORY_KINDS={spec}: {' '.join(str(exc).split())}") from None


def _attribute(spec: str) -> Any:
    where, _, name = spec.rpartition(":") if ":" in spec else (spec, "", DEFAULT_ATTRIBUTE)
    name = name or DEFAULT_ATTRIBUTE
    if where.endswith(".py") or "/" in where:
        module = _from_file(Path(where))
    else:
        # As `python -m` would: a package in the directory the bot starts in is found, also
        # under the `bot` console script (whose sys.path starts at its own bin directory).
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        module = _guarded(lambda: importlib.import_module(where), f"module {where}")
    if not hasattr(module, name):
        raise ConfigurationError(f"{where} has no {name}")
    return getattr(module, name)


def _from_file(path: Path) -> Any:
    if not path.is_file():
        raise ConfigurationError(f"no file {path} (relative paths start where the bot starts)")
    name = f"memory_kinds_{path.stem}"
    loader = importlib.util.spec_from_file_location(name, path)
    if loader is None or loader.loader is None:
        raise ConfigurationError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(loader)
    # Registered first, so pydantic can resolve the file's own annotations.
    sys.modules[name] = module
    exec_module: Callable[[], None] = lambda: loader.loader.exec_module(module)  # type: ignore[union-attr]  # noqa: E731
    _guarded(exec_module, str(path))
    return module


def _guarded(step: Callable[[], Any], what: str) -> Any:
    try:
        return step()
    except (ConfigurationError, KindError):
        raise
    except Exception as exc:
        # One line, no traceback: the deployer fixes their file from this.
        raise ConfigurationError(f"{what} failed to load ({type(exc).__name__}: {exc})") from None
