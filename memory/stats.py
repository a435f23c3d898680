"""Counters the engine keeps about itself, rendered as Prometheus text by the bot's web server."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

from memory import evolution

REPLY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class Histogram:
    buckets: tuple[float, ...] = REPLY_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * (len(REPLY_BUCKETS) + 1))
    total: float = 0.0
    observations: int = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.observations += 1

    def cumulative(self) -> list[tuple[str, int]]:
        running, rows = 0, []
        for bound, count in zip((*map(str, self.buckets), "+Inf"), self.counts, strict=True):
            running += count
            rows.append((bound, running))
        return rows

    def prometheus(self, name: str, help_text: str) -> list[str]:
        """The histogram in Prometheus text format: HELP, TYPE, buckets, sum and count."""
        lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
        lines += [f'{name}_bucket{{le="{bound}"}} {count}' for bound, count in self.cumulative()]
        lines += [f"{name}_sum {self.total:.6f}", f"{name}_count {self.observations}"]
        return lines


@dataclass
class EngineStats:
    messages: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    reply_seconds: Histogram = field(default_factory=Histogram)
    extractions: int = 0
    extraction_failures: int = 0

    def prometheus(self, backlog: int) -> str:
        lines = [
            "# HELP bot_messages_total Messages answered, by platform.",
            "# TYPE bot_messages_total counter",
        ]
        lines += [
            f'bot_messages_total{{platform="{p}"}} {n}' for p, n in sorted(self.messages.items())
        ]
        lines += [
            "# HELP bot_errors_total Failures, by kind.",
            "# TYPE bot_errors_total counter",
        ]
        lines += [f'bot_errors_total{{kind="{k}"}} {n}' for k, n in sorted(self.errors.items())]
        lines += self.reply_seconds.prometheus("bot_reply_seconds", "Time to produce a reply.")
        lines += [
            "# HELP bot_extraction_backlog Users with learning scheduled or running.",
            "# TYPE bot_extraction_backlog gauge",
            f"bot_extraction_backlog {backlog}",
            "# HELP bot_extractions_total Learning runs finished.",
            "# TYPE bot_extractions_total counter",
            f"bot_extractions_total {self.extractions}",
            "# HELP bot_extraction_failures_total Learning runs that failed.",
            "# TYPE bot_extraction_failures_total counter",
            f"bot_extraction_failures_total {self.extraction_failures}",
        ]
        lines += evolution.prometheus()
        return "\n".join(lines) + "\n"
