"""Logging: one format, the chosen level, and secrets masked in every record."""

from __future__ import annotations

import json
import logging
import re

_TOKEN = re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|sk-[A-Za-z0-9_\-]{8,})")
# Discord interaction and webhook tokens travel in URL paths.
_URL_TOKEN = re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_\-.]{20,}")


class RedactSecrets(logging.Filter):
    """Masks Slack/OpenAI-style tokens and any configured secret wherever it appears."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def redact(self, text: str) -> str:
        """`text` with every configured secret (of 8+ characters), Slack tokens (`xoxb-`,
        `xapp-`, ...), `sk-` API keys and Discord webhook/interaction URL tokens replaced
        by `[secret]`."""
        for secret in self.secrets:
            text = text.replace(secret, "[secret]")
        return _URL_TOKEN.sub(r"\1[secret]", _TOKEN.sub("[secret]", text))

    def filter(self, record: logging.LogRecord) -> bool:
        """logging.Filter hook: redact the record's message (then stored with its args
        applied) and its traceback text in place; every record is kept (always True)."""
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Tracebacks can quote URLs and headers: format now, then redact.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


# Attributes every LogRecord has; anything else was passed in `extra=` and is context.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the `extra=` context (user, conversation) as fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line: time, level, logger, message, the `extra=` fields
        and any traceback as `exception`; values JSON cannot hold are written with str()."""
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(context_fields(record))
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def context_fields(record: logging.LogRecord) -> dict[str, object]:
    """The fields a record was given through `extra=` (user, conversation, ...)."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


# Everything below U+0020 plus DEL and the C1 controls, and the Unicode line separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """`text` on one line: a newline becomes `\\n`, other control characters `\\xNN` or
    `\\uNNNN`, so text from outside (a message body) cannot start a log line of its own."""

    def one(match: re.Match[str]) -> str:
        char = match.group()
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char) or (
            f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
        )

    return _CONTROL.sub(one, text)


class TextFormatter(logging.Formatter):
    """One line per record (control characters escaped), the `extra=` context appended as
    key=value; a traceback follows on lines that each start with `  | `."""

    def format(self, record: logging.LogRecord) -> str:
        """The record in the handler's format (configure_logging's: `time LEVEL logger:
        message`) plus ` [k=v ...]`, then traceback and stack lines, as the class says."""
        record.message = escape_controls(record.getMessage())
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        context = " ".join(
            f"{k}={escape_controls(str(v))}" for k, v in context_fields(record).items()
        )
        if context:
            line = f"{line} [{context}]"
        trace = record.exc_text or (
            self.formatException(record.exc_info) if record.exc_info else ""
        )
        if record.stack_info:
            trace = f"{trace}\n{self.formatStack(record.stack_info)}".lstrip("\n")
        if trace:
            # An exception message can quote outside text; the prefix keeps it from
            # passing for a record of its own.
            lines = (f"  | {escape_controls(part)}" for part in trace.splitlines())
            line = line + "\n" + "\n".join(lines)
        return line


def configure_logging(level: str, secrets: list[str], style: str = "text") -> None:
    """Route every record to one stderr handler: JSON lines for `style` "json", else text
    lines (TextFormatter), with `secrets` and token-like strings masked (RedactSecrets).

    `level` is a logging level name ("INFO", "DEBUG"); an unknown one raises ValueError.
    Replaces the root logger's handlers; the HTTP clients' and platform SDKs' loggers stay
    at WARNING or above unless `level` is higher.
    """
    handler = logging.StreamHandler()
    if style == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Client libraries log request details at DEBUG/INFO; keep them quiet unless asked.
    noisy_loggers = ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "anthropic")
    for noisy in (*noisy_loggers, "discord.http", "slack_bolt", "slack_sdk"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
