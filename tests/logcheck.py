"""What a log record says: the checks for secrets and message text look here, not at the
record's timing and process fields (a `relativeCreated` of 2759.1254711 holds "4711")."""

from __future__ import annotations

import logging

from bot.logs import context_fields


def said(record: logging.LogRecord) -> str:
    """The formatted message, the raw arguments, the `extra=` fields and the traceback."""
    return " ".join(
        (
            record.getMessage(),
            repr(record.args),
            repr(context_fields(record)),
            record.exc_text or "",
            record.stack_info or "",
        )
    )


def loud_records_saying(records: list[logging.LogRecord], needle: str) -> list[str]:
    """(logger, message) of each record at INFO or above that says `needle`."""
    return [
        f"{r.name}: {r.getMessage()[:300]}"
        for r in records
        if r.levelno >= logging.INFO and needle in said(r)
    ]
