"""Metrics the engine keeps about itself, in a prometheus_client registry of its own.

Each engine owns a `CollectorRegistry` (not prometheus_client's global one), so several engines
in one process (the tests, the benchmarks) count separately; the bot's web server renders it on
/metrics.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from cachetools import LRUCache
from langgraph.store.base import (
    NOT_PROVIDED,
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    NamespacePath,
    NotProvided,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.metrics import disable_created_metrics
from prometheus_client.registry import Collector

from memory.storage import evolution

# prometheus_client adds a `<name>_created` timestamp series to every counter and histogram
# unless told not to; /metrics never had them, and nothing here reads them. Process-wide.
disable_created_metrics()  # type: ignore[no-untyped-call]

REPLY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Store round trips: SQLite answers in well under a millisecond, PostgreSQL over a network in
# a few; the top buckets catch a database that is struggling.
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Remembered items (profiles, facts, to-dos) per person; the learner caps nothing below 2000.
ITEM_BUCKETS = (0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0)
# Stored bytes per person (the values' JSON, sealed when encryption is on).
BYTE_BUCKETS = (0.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0)
# People whose size is known at once; the least recently seen drop out of the histogram.
SIZED_PEOPLE = 100_000


class MemorySizes(Collector):
    """How much each person has remembered, exposed as two histograms across people:
    `bot_memory_items` (items) and `bot_memory_bytes` (bytes); `_count` is the number of people.

    The repository records a person's size whenever it reads their whole memory from the store,
    which it does on the first read after every change (any process's write bumps the person's
    revision; see memory.storage.repository), so a change shows by the next reply or learning round
    without a query of its own and without walking every person in the store. The
    distribution therefore covers the people this process has read since it started (at most
    SIZED_PEOPLE of them, the least recently read dropped first), not dormant ones. The
    histogram is a snapshot recomputed at each scrape: a person who forgets everything moves
    back down, so unlike a counter-backed histogram its buckets can go down.
    No person's id ever leaves this object.
    """

    def __init__(self, limit: int = SIZED_PEOPLE) -> None:
        self._sizes: LRUCache[str, tuple[int, int]] = LRUCache(maxsize=limit)

    def record(self, user_key: str, items: Sequence[Item | None]) -> None:
        """Record `user_key`'s remembered rows (as read from the store, None entries skipped)."""
        kept = [item for item in items if item is not None]
        size = sum(len(json.dumps(item.value, separators=(",", ":")).encode()) for item in kept)
        self._sizes[user_key] = (len(kept), size)

    def forget(self, user_key: str) -> None:
        """The person is gone from the store (forget all): they leave the distribution."""
        self._sizes.pop(user_key, None)

    def describe(self) -> Iterable[Metric]:
        """The two histogram families, without samples (so registering does not compute them)."""
        return [
            HistogramMetricFamily("bot_memory_items", "Remembered items per person."),
            HistogramMetricFamily("bot_memory_bytes", "Stored bytes of memory per person."),
        ]

    def collect(self) -> Iterable[Metric]:
        """Both histograms as of now, computed from the recorded sizes at each scrape."""
        sizes = list(self._sizes.values())
        yield _snapshot(
            "bot_memory_items", "Remembered items per person.", ITEM_BUCKETS, [n for n, _ in sizes]
        )
        yield _snapshot(
            "bot_memory_bytes",
            "Stored bytes of memory per person.",
            BYTE_BUCKETS,
            [b for _, b in sizes],
        )


def _snapshot(
    name: str, help_text: str, bounds: tuple[float, ...], values: list[int]
) -> HistogramMetricFamily:
    counts = [0] * (len(bounds) + 1)
    for value in values:
        counts[bisect.bisect_left(bounds, value)] += 1
    running, buckets = 0, []
    for bound, count in zip((*map(str, bounds), "+Inf"), counts, strict=True):
        running += count
        buckets.append((bound, float(running)))
    return HistogramMetricFamily(name, help_text, buckets=buckets, sum_value=float(sum(values)))


class EngineStats:
    """The engine's metrics, registered on `registry` (one per engine).

    Exposed names (Prometheus text): bot_messages_total{platform}, bot_errors_total{kind},
    bot_reply_seconds (histogram, seconds), bot_extraction_backlog (gauge, people),
    bot_extractions_total, bot_extraction_failures_total, bot_store_seconds{operation}
    (histogram, seconds per store call), bot_memory_items and bot_memory_bytes
    (histograms across people, see MemorySizes), bot_memory_invalid_items_total{kind}.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # prometheus_client names a counter `<name>_total` on the wire: "bot_messages" is
        # exposed as bot_messages_total, the name /metrics has always had.
        self.messages = Counter(
            "bot_messages",
            "Messages answered, by platform.",
            ["platform"],
            registry=self.registry,
        )
        self.errors = Counter("bot_errors", "Failures, by kind.", ["kind"], registry=self.registry)
        self.reply_seconds = Histogram(
            "bot_reply_seconds",
            "Time to produce a reply.",
            buckets=REPLY_BUCKETS,
            registry=self.registry,
        )
        self.backlog = Gauge(
            "bot_extraction_backlog",
            "Users with learning scheduled or running.",
            registry=self.registry,
        )
        self.extractions = Counter(
            "bot_extractions", "Learning runs finished.", registry=self.registry
        )
        self.extraction_failures = Counter(
            "bot_extraction_failures", "Learning runs that failed.", registry=self.registry
        )
        self.store_seconds = Histogram(
            "bot_store_seconds",
            "Time of one store call (queued with those made at the same moment, then one "
            "round trip), by operation: get, search, put, delete, list, or batch for one "
            "that mixes them.",
            ["operation"],
            buckets=STORE_BUCKETS,
            registry=self.registry,
        )
        self.memory_sizes = MemorySizes()
        self.registry.register(self.memory_sizes)
        self.registry.register(InvalidItems())


class InvalidItems(Collector):
    """`bot_memory_invalid_items_total{kind}`: stored items read that did not fit their kind's
    schema (counted process-wide by memory.storage.evolution, which keeps them as they were)."""

    def collect(self) -> Iterable[Metric]:
        """The counter as of now, one sample per kind."""
        family = CounterMetricFamily(
            "bot_memory_invalid_items",
            "Stored memory items read that do not fit their kind's schema, by kind.",
            labels=["kind"],
        )
        for kind, seen in sorted(evolution.INVALID_SEEN.items()):
            family.add_metric([kind], float(seen))
        yield family


def _operation(op: Op) -> str:
    if isinstance(op, GetOp):
        return "get"
    if isinstance(op, SearchOp):
        return "search"
    if isinstance(op, PutOp):
        return "delete" if op.value is None else "put"
    if isinstance(op, ListNamespacesOp):
        return "list"
    return "other"


class TimedStore(BaseStore):
    """A LangGraph store that times every call to `inner` into `seconds` (a histogram labelled
    by operation) and otherwise passes everything through unchanged.

    `aget`, `asearch`, `aput`, `adelete` and `alist_namespaces` go to the inner store's own
    methods, so its batching stays as it is: the SQLite and PostgreSQL stores queue what is
    asked at the same moment and send it as one round trip from a task of their own
    (langgraph.store.base.batch.AsyncBatchedBaseStore), and a call's time is that wait and that
    trip. `abatch` (the repository reads a person's whole memory in one) is labelled with its one
    kind of operation, or "batch" when it mixes them.

    A store call whose caller is cancelled (a shutdown stopping the sweeper, a timeout) is not
    timed, and never stops a round trip half-way: the batched methods' trips run in the store's
    own task, and `abatch` runs its trip in a task of its own that the caller only waits on.
    SQLite's store opens a transaction with BEGIN before its statements and commits after them;
    a task cancelled while awaiting BEGIN leaves that transaction open on the shared connection,
    and every later call fails with "cannot start a transaction within a transaction"
    (langgraph.store.sqlite.aio.AsyncSqliteStore._cursor).
    """

    def __init__(self, inner: BaseStore, seconds: Histogram) -> None:
        self.inner = inner
        self._seconds = seconds
        self.supports_ttl = inner.supports_ttl
        self.ttl_config = inner.ttl_config

    @contextmanager
    def _timing(self, operation: str) -> Iterator[None]:
        started = time.perf_counter()
        stopped = False
        try:
            yield
        except asyncio.CancelledError:
            stopped = True  # the caller stopped waiting: the call's own time is not known
            raise
        finally:
            if not stopped:
                self._seconds.labels(operation=operation).observe(time.perf_counter() - started)

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run `ops` on the inner store (from a thread; see BaseStore.batch), timed."""
        listed = list(ops)
        with self._timing(_label(listed)):
            return self.inner.batch(listed)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run `ops` on the inner store in one round trip and return its results, in order.
        Raises what the inner store raises; cancelling the caller does not cancel the trip."""
        listed = list(ops)
        with self._timing(_label(listed)):
            trip = asyncio.ensure_future(self.inner.abatch(listed))
            # A trip whose caller was cancelled may still fail: its error is nobody's then.
            trip.add_done_callback(_retrieve)
            return await asyncio.shield(trip)

    async def aget(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> Item | None:
        """The inner store's `aget`, timed as "get"."""
        with self._timing("get"):
            return await self.inner.aget(namespace, key, refresh_ttl=refresh_ttl)

    async def asearch(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[SearchItem]:
        """The inner store's `asearch`, timed as "search"."""
        with self._timing("search"):
            return await self.inner.asearch(
                namespace_prefix,
                query=query,
                filter=filter,
                limit=limit,
                offset=offset,
                refresh_ttl=refresh_ttl,
            )

    async def aput(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | NotProvided | None = NOT_PROVIDED,
    ) -> None:
        """The inner store's `aput`, timed as "put"."""
        with self._timing("put"):
            await self.inner.aput(namespace, key, value, index, ttl=ttl)

    async def adelete(self, namespace: tuple[str, ...], key: str) -> None:
        """The inner store's `adelete`, timed as "delete"."""
        with self._timing("delete"):
            await self.inner.adelete(namespace, key)

    async def alist_namespaces(
        self,
        *,
        prefix: NamespacePath | None = None,
        suffix: NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """The inner store's `alist_namespaces`, timed as "list"."""
        with self._timing("list"):
            return await self.inner.alist_namespaces(
                prefix=prefix, suffix=suffix, max_depth=max_depth, limit=limit, offset=offset
            )


def _label(ops: list[Op]) -> str:
    kinds = {_operation(op) for op in ops}
    return kinds.pop() if len(kinds) == 1 else "batch"


def _retrieve(trip: asyncio.Future[list[Result]]) -> None:
    if not trip.cancelled():
        trip.exception()
