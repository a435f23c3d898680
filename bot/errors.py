"""Errors of the running process (as opposed to the core's, in memory.errors)."""

from __future__ import annotations


class AdapterFailed(Exception):
    """A platform adapter stopped by itself (it could not connect, or crashed): the process
    exits non-zero so that whatever supervises it restarts it."""
