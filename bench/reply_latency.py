"""Reply latency against LLM time, and LLM calls per user message, with a slow (300 ms) LLM.

    python -m bench.reply_latency [--backend postgres|sqlite] [--users 20] [--messages 30]
                                  [--concurrency 20] [--latency-ms 300] [--think-ms 300]
                                  [--pool-size 10] [--lock-slots 0] [--quick]

Every LLM call (replies, extraction, summaries) takes `--latency-ms`. Each user pauses a
random 0..2x `--think-ms` before each message (`--think-ms 0`: all users in lockstep, the
worst case for a single event loop). For each reply the script measures the wall time of
`engine.reply()` and the time of the reply's own chat call; the difference is what the
engine adds (recall, checkpoint, recording the message as pending, and any waiting for the
event loop or a pool connection). After the replies, everything pending is
learned (`engine.aclose()`), then LLM calls are counted per user message.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

from bench.common import (
    add_backend_argument,
    add_load_arguments,
    add_lock_slots_argument,
    bench_database,
    engine_on,
    machine_line,
)
from bench.report import percentile, print_table
from bench.scripted import TURN_CALLS, BenchModel, CallRecord
from bench.workload import bench_user, dm_of, message
from bot.storage import open_storage

WARMUP_MESSAGES = 4


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    model = BenchModel(latency=args.latency_ms / 1000)
    replies: list[float] = []
    chat_llm: list[float] = []
    overheads: list[float] = []
    failures = 0
    async with (
        bench_database(args.backend) as db,
        open_storage(db.url, db.data_dir, args.pool_size) as storage,
    ):
        engine = engine_on(storage, model, lock_slots=args.lock_slots)
        warm = bench_user(10_000)
        for n in range(WARMUP_MESSAGES):
            await engine.reply(message(warm, dm_of(warm, "warmup"), n, 10_000))
        await engine.flush()
        model.records.clear()

        gate = asyncio.Semaphore(args.concurrency)
        pauses = random.Random(7)

        async def one_user(index: int) -> None:
            nonlocal failures
            user = bench_user(index)
            where = dm_of(user)
            for n in range(args.messages):
                # People do not all hit enter at the same instant: a random pause between a
                # reply and the next message keeps the users from moving in lockstep.
                await asyncio.sleep(pauses.uniform(0, 2 * args.think_ms) / 1000)
                async with gate:
                    calls: list[CallRecord] = []
                    token = TURN_CALLS.set(calls)
                    started = time.perf_counter()
                    try:
                        reply = await engine.reply(message(user, where, n, index))
                    finally:
                        TURN_CALLS.reset(token)
                    took = time.perf_counter() - started
                chat = sum(c.seconds for c in calls if c.kind == "chat")
                replies.append(took * 1000)
                chat_llm.append(chat * 1000)
                overheads.append((took - chat) * 1000)
                failures += reply.failed

        started = time.perf_counter()
        await asyncio.gather(*(one_user(i) for i in range(args.users)))
        replied = time.perf_counter() - started
        await engine.aclose()
        learned = time.perf_counter() - started - replied

    total = args.users * args.messages
    counts = {k: model.count(k) for k in ("chat", "extract", "other")}
    return {
        "total": total,
        "failures": failures,
        "replies": replies,
        "chat_llm": chat_llm,
        "overheads": overheads,
        "counts": counts,
        "replied_s": replied,
        "learned_s": learned,
    }


def report(args: argparse.Namespace, result: dict[str, Any]) -> None:
    title = (
        f"reply latency: backend={args.backend} users={args.users} messages/user={args.messages}"
        f" concurrency={args.concurrency} llm_latency={args.latency_ms:g}ms"
        f" think={args.think_ms:g}ms"
        f" pool_size={args.pool_size} lock_slots={args.lock_slots or 'unbounded (as shipped)'};\n"
        f"{result['total']} replies in {result['replied_s']:.1f} s, then learning "
        f"{result['learned_s']:.1f} s; failed replies: {result['failures']}"
    )
    rows = []
    for label, key in (
        ("time to reply", "replies"),
        ("its chat LLM call", "chat_llm"),
        ("reply - LLM (engine overhead)", "overheads"),
    ):
        values = result[key]
        rows.append(
            [label, *(percentile(values, p) for p in (50, 95, 99)), max(values, default=0.0)]
        )
    print_table(title, ["ms", "p50", "p95", "p99", "max"], rows)

    counts = result["counts"]
    total = result["total"]
    p95 = percentile(result["replies"], 95)
    budget = args.latency_ms + 20
    summary = [
        ["reply p95 vs LLM time + 20 ms", f"{p95:.1f} vs {budget:g} ms", "p95 <= LLM + 20 ms"],
        ["LLM calls: chat (replies)", counts["chat"], ""],
        ["LLM calls: extraction (trustcall)", counts["extract"], ""],
        ["LLM calls: other (summaries)", counts["other"], ""],
        ["LLM calls per user message", f"{sum(counts.values()) / total:.2f}", "<= 1.3"],
    ]
    print_table("summary", ["figure", "value", "target"], summary)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reply_latency", description=__doc__)
    add_backend_argument(parser)
    add_lock_slots_argument(parser)
    add_load_arguments(parser, users=20, messages=30, latency_ms=300.0)
    parser.add_argument(
        "--think-ms",
        type=float,
        default=300.0,
        help="mean pause before each message (uniform 0..2x; 0: users in lockstep)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.messages, args.concurrency = 2, 4, 2
        args.latency_ms, args.think_ms = 20.0, 5.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    print(machine_line(), "(at start)")
    report(args, asyncio.run(measure(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
