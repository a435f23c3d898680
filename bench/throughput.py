"""Throughput and latency: U users x M messages at concurrency C through the real engine.

    python -m bench.throughput [--backend postgres|sqlite] [--users 50] [--messages 20]
                               [--concurrency 50] [--latency-ms 0] [--baseline] [--quick]

Each user talks in a DM of their own and sends their messages one after another (a person
waits for the answer); at most C messages are in flight overall. The measurement window runs
from the first message until every reply is sent *and* everything pending is learned
(`engine.aclose()` flushes the learner), so learning's time, CPU and LLM calls are counted.

Each design runs in a child process of its own, on a database of its own, so peak RSS, CPU
and database bytes are its own. `--baseline` runs the straightforward design (bench/baseline.py)
on the same workload in the same run and prints both and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from bench.baseline import BaselineBot
from bench.common import (
    BenchDatabase,
    StatementCounter,
    add_backend_argument,
    add_load_arguments,
    add_lock_slots_argument,
    bench_database,
    cpu_since,
    engine_on,
    machine_line,
    peak_rss_mb,
    process_cpu_seconds,
)
from bench.report import percentile, print_table
from bench.scripted import BenchModel
from bench.workload import bench_user, dm_of, message
from bot.storage import open_storage
from memory.engine import MemoryEngine
from memory.messages import ChatMessage

WARMUP_MESSAGES = 4
EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout|Failed)\b")
STATS_SETTLE_S = 1.2  # PostgreSQL publishes a backend's statistics at most once a second
Reply = Callable[[ChatMessage], Awaitable[bool]]  # True when the reply did not fail


async def drive(reply: Reply, users: int, messages: int, concurrency: int) -> dict[str, Any]:
    """Every user sends their messages in order; at most `concurrency` replies in flight."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    failures = 0

    async def one_user(index: int) -> None:
        nonlocal failures
        user = bench_user(index)
        where = dm_of(user)
        for n in range(messages):
            async with gate:
                started = time.perf_counter()
                ok = await reply(message(user, where, n, index))
                latencies.append(time.perf_counter() - started)
                failures += not ok

    await asyncio.gather(*(one_user(i) for i in range(users)))
    return {"latencies": latencies, "failures": failures}


async def measure(design: str, args: argparse.Namespace, db: BenchDatabase) -> dict[str, Any]:
    model = BenchModel(latency=args.latency_ms / 1000)
    statements = StatementCounter()
    if args.queries:
        statements.install()
    async with open_storage(db.url, db.data_dir, args.pool_size) as storage:
        engine: MemoryEngine | None = None
        if design == "ours":
            engine = engine_on(storage, model, lock_slots=args.lock_slots)

            async def reply(msg: ChatMessage) -> bool:
                assert engine is not None
                return not (await engine.reply(msg)).failed

            finish: Callable[[], Awaitable[None]] = engine.aclose
        else:
            bot = BaselineBot(model, storage.store, storage.checkpointer)

            async def reply(msg: ChatMessage) -> bool:
                try:
                    await bot.reply(msg)
                    return True
                except Exception:
                    return False

            async def finish() -> None:
                return None

        # Warm up (first graph run, schema building) on a user outside the workload.
        warm = bench_user(10_000)
        for n in range(WARMUP_MESSAGES):
            await reply(message(warm, dm_of(warm, "warmup"), n, 10_000))
        if engine is not None:
            await engine.flush()
        model.records.clear()
        start_bytes = await db.compact_bytes()
        start_tables = await db.table_bytes()
        pids = await db.backend_pids()
        await asyncio.sleep(STATS_SETTLE_S if pids else 0)  # let the server publish its stats
        xact0 = await db.transactions()
        statements.counts.clear()

        pg_cpu0 = process_cpu_seconds(pids)
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        driven = await drive(reply, args.users, args.messages, args.concurrency)
        t_replied = time.perf_counter()
        await finish()  # learn everything pending, wait for background work
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        # The pool opens connections as load grows: count the backends started meanwhile too.
        pids = sorted(set(pids) | set(await db.backend_pids()))
        pg_cpu = cpu_since(pg_cpu0, process_cpu_seconds(pids))
        sent = dict(statements.counts)

        await asyncio.sleep(STATS_SETTLE_S if pids else 0)
        xact1 = await db.transactions()
        end_bytes = await db.size_bytes()
        compact_bytes = await db.compact_bytes()
        end_tables = await db.table_bytes()

    total = args.users * args.messages
    latencies_ms = [x * 1000 for x in driven["latencies"]]
    chat = [r for r in model.records if r.kind == "chat"]
    extract = [r for r in model.records if r.kind == "extract"]
    other = [r for r in model.records if r.kind == "other"]
    script_cpu = sum(r.script_cpu for r in model.records)
    return {
        "design": design,
        "backend": db.backend,
        "messages": total,
        "failures": driven["failures"],
        "elapsed_s": elapsed,
        "learn_tail_s": elapsed - (t_replied - t0),
        "msg_per_s": total / elapsed,
        "p50_ms": percentile(latencies_ms, 50),
        "p95_ms": percentile(latencies_ms, 95),
        "p99_ms": percentile(latencies_ms, 99),
        "cpu_ms_per_msg": cpu * 1000 / total,
        "cpu_ms_per_msg_engine": (cpu - script_cpu) * 1000 / total,
        "db_cpu_ms_per_msg": pg_cpu * 1000 / total if pids else None,
        "chat_calls": len(chat),
        "extract_calls": len(extract),
        "other_calls": len(other),
        "llm_calls_per_msg": len(model.records) / total,
        "db_xacts_per_msg": (xact1 - xact0 - 1) / total if xact0 and xact1 else None,
        "db_kb_per_1k": (end_bytes - start_bytes) / total * 1000 / 1024,
        "db_kb_per_1k_compact": (compact_bytes - start_bytes) / total * 1000 / 1024,
        "peak_rss_mb": peak_rss_mb(),
        "statements_per_msg": {k: v / total for k, v in sent.items()},
        "tables_kb_per_1k": {
            name: (size - start_tables.get(name, 0)) / total * 1000 / 1024
            for name, size in end_tables.items()
        },
    }


ROWS: tuple[tuple[str, str, bool], ...] = (
    # (label, key, whether ours / baseline means something)
    ("messages/s (replies + learning)", "msg_per_s", True),
    ("reply p50 ms", "p50_ms", True),
    ("reply p95 ms", "p95_ms", True),
    ("reply p99 ms", "p99_ms", True),
    ("window s", "elapsed_s", True),
    ("  of which learning after last reply s", "learn_tail_s", False),
    ("CPU ms / message (this process)", "cpu_ms_per_msg", True),
    ("  excl. scripted LLM's own CPU", "cpu_ms_per_msg_engine", True),
    ("PostgreSQL backend CPU ms / message", "db_cpu_ms_per_msg", True),
    ("PostgreSQL transactions / message", "db_xacts_per_msg", True),
    ("LLM calls: chat", "chat_calls", True),
    ("LLM calls: extraction", "extract_calls", True),
    ("LLM calls: other (summaries)", "other_calls", True),
    ("LLM calls / message", "llm_calls_per_msg", True),
    ("DB KiB / 1,000 messages (on disk)", "db_kb_per_1k", True),
    ("DB KiB / 1,000 messages (after VACUUM FULL)", "db_kb_per_1k_compact", True),
    ("peak RSS MiB", "peak_rss_mb", True),
    ("failed replies", "failures", True),
)


def report(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    title = (
        f"throughput: backend={args.backend} users={args.users} messages/user={args.messages} "
        f"concurrency={args.concurrency} llm_latency={args.latency_ms:g}ms "
        f"pool_size={args.pool_size} lock_slots={args.lock_slots or 'unbounded (as shipped)'}"
    )
    headers = ["metric", *(r["design"] for r in results)]
    if len(results) == 2:
        headers.append("ours / baseline")
    rows = []
    for label, key, ratio in ROWS:
        values = [r.get(key) for r in results]
        row: list[Any] = [label, *values]
        if len(results) == 2:
            a, b = values
            numbers = isinstance(a, int | float) and isinstance(b, int | float)
            row.append(f"{a / b:.2f}x" if numbers and b and ratio else "")
        rows.append(row)
    print_table(title, headers, rows)

    names = sorted(
        {n for r in results for n in r["tables_kb_per_1k"]},
        key=lambda n: -max(r["tables_kb_per_1k"].get(n, 0.0) for r in results),
    )
    table_rows = [
        [name, *(r["tables_kb_per_1k"].get(name, 0.0) for r in results)]
        for name in names
        if any(abs(r["tables_kb_per_1k"].get(name, 0.0)) >= 0.05 for r in results)
    ]
    print_table(
        "where the bytes are: KiB per 1,000 messages after VACUUM FULL, by table (Postgres, "
        "with indexes and TOAST) or file (SQLite)",
        ["table", *(r["design"] for r in results)],
        table_rows,
    )

    if args.queries:
        labels = sorted(
            {k for r in results for k in r["statements_per_msg"]},
            key=lambda k: -max(r["statements_per_msg"].get(k, 0.0) for r in results),
        )
        print_table(
            "SQL statements sent per message, by statement (first 90 characters)",
            ["statement", *(r["design"] for r in results)],
            [
                [label, *(r["statements_per_msg"].get(label, 0.0) for r in results)]
                for label in labels
            ]
            + [
                [
                    "total",
                    *(sum(r["statements_per_msg"].values()) for r in results),
                ]
            ],
        )


def child_command(design: str, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.throughput",
        "--design",
        design,
        "--backend",
        args.backend,
        "--users",
        str(args.users),
        "--messages",
        str(args.messages),
        "--concurrency",
        str(args.concurrency),
        "--latency-ms",
        str(args.latency_ms),
        "--pool-size",
        str(args.pool_size),
        "--lock-slots",
        str(args.lock_slots),
        *(["--queries"] if args.queries else []),
    ]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__)
    add_backend_argument(parser)
    add_lock_slots_argument(parser)
    add_load_arguments(parser, users=50, messages=20, latency_ms=0.0)
    parser.add_argument("--baseline", action="store_true", help="also run the baseline design")
    parser.add_argument(
        "--queries", action="store_true", help="also count SQL statements per message, by kind"
    )
    parser.add_argument("--design", choices=("ours", "baseline"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.messages, args.concurrency = 3, 4, 3
    return args


async def run_child(design: str, args: argparse.Namespace) -> dict[str, Any]:
    async with bench_database(args.backend) as db:
        return await measure(design, args, db)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.design:  # a child: measure one design, print one JSON line
        print(json.dumps(asyncio.run(run_child(args.design, args))))
        return 0
    print(machine_line(), "(at start)")
    results = []
    errors: dict[str, Counter[str]] = {}
    for design in ("ours", "baseline") if args.baseline else ("ours",):
        done = subprocess.run(child_command(design, args), capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            print(f"the {design} run failed (exit {done.returncode})", file=sys.stderr)
            return done.returncode
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        errors[design] = Counter(
            line.strip()[:120] for line in done.stderr.splitlines() if EXCEPTION.match(line)
        )
    report(args, results)
    for design, seen in errors.items():
        if seen:
            print(f"\nerrors logged by the {design} run (count, first line):")
            for line, count in seen.most_common(5):
                print(f"  {count:>5}  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
