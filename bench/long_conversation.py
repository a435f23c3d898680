"""Long conversations: one user, N messages (default 1,000) in one DM conversation.

    python -m bench.long_conversation [--backend postgres|sqlite] [--messages 1000]
                                      [--latency-ms 0] [--baseline] [--baseline-messages 200]
                                      [--quick]

Prints, at message #1, #50, #100, #N/2 and #N: the median reply latency of a window of
messages around it, the prompt tokens (characters / 4) the model received for that reply,
and the checkpoint bytes the thread holds right after it (checkpoints + blobs + writes).
The summary compares the last turns with the first and checks the issue's targets.
`--baseline` runs the straightforward design (full history, default durability, no
pruning) on the same messages, at a smaller N by default because it grows quadratically.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bench.baseline import BaselineBot
from bench.common import (
    BenchDatabase,
    add_backend_argument,
    bench_database,
    engine_on,
    machine_line,
    release_store,
)
from bench.report import median, print_table
from bench.scripted import TURN_CALLS, BenchModel, CallRecord
from bench.workload import bench_user, dm_of, message
from bot.storage import open_storage
from memory.messages import ChatMessage

WARMUP_MESSAGES = 4


def positions(total: int) -> list[int]:
    return sorted({p for p in (1, 50, 100, total // 2, total) if 1 <= p <= total})


def window(position: int, total: int, size: int) -> range:
    """1-based message numbers around a position: the first/last `size`, or centred."""
    if position <= size:
        return range(1, min(size, total) + 1)
    if position >= total - size + 1:
        return range(max(1, total - size + 1), total + 1)
    start = position - size // 2
    return range(start, start + size)


async def converse(
    design: str, db: BenchDatabase, total: int, latency_ms: float, window_size: int
) -> dict[str, Any]:
    model = BenchModel(latency=latency_ms / 1000)
    user = bench_user(0)
    where = dm_of(user, "long")
    latencies: list[float] = []
    prompt_tokens: dict[int, int] = {}
    thread_bytes: dict[int, tuple[int, int]] = {}
    failures = 0
    wanted = set(positions(total))
    async with open_storage(db.url, db.data_dir) as storage:
        if design == "ours":
            engine = engine_on(storage, model)

            async def reply(msg: ChatMessage) -> bool:
                return not (await engine.reply(msg)).failed

        else:
            bot = BaselineBot(model, storage.store, storage.checkpointer)

            async def reply(msg: ChatMessage) -> bool:
                await bot.reply(msg)
                return True

        warm = bench_user(10_000)
        for n in range(WARMUP_MESSAGES):
            await reply(message(warm, dm_of(warm, "warmup"), n, 10_000))
        model.records.clear()

        started = time.perf_counter()
        for n in range(total):
            calls: list[CallRecord] = []
            token = TURN_CALLS.set(calls)
            t0 = time.perf_counter()
            try:
                ok = await reply(message(user, where, n, 0))
            finally:
                TURN_CALLS.reset(token)
            latencies.append(time.perf_counter() - t0)
            failures += not ok
            if n + 1 in wanted:
                chat = [c for c in calls if c.kind == "chat"]
                prompt_tokens[n + 1] = chat[0].prompt_chars // 4 if chat else 0
                thread_bytes[n + 1] = await db.thread_bytes(where.key)
        replies_s = time.perf_counter() - started
        if design == "ours":
            await engine.aclose()
        final_bytes = await db.thread_bytes(where.key)
        await release_store(storage.store)

    rows = []
    for position in positions(total):
        span = window(position, total, window_size)
        rows.append(
            {
                "position": position,
                "window": f"#{span.start}-#{span.stop - 1}",
                "median_ms": median([latencies[i - 1] * 1000 for i in span]),
                "prompt_tokens": prompt_tokens.get(position, 0),
                "thread_bytes": thread_bytes[position][0],
                "thread_rows": thread_bytes[position][1],
            }
        )
    return {
        "design": design,
        "messages": total,
        "rows": rows,
        "replies_s": replies_s,
        "failures": failures,
        "final_thread_bytes": final_bytes[0],
        "final_thread_rows": final_bytes[1],
        "llm_calls": {k: model.count(k) for k in ("chat", "extract", "other")},
    }


def report(backend: str, result: dict[str, Any]) -> None:
    total = result["messages"]
    print_table(
        f"long conversation ({result['design']}): backend={backend} messages={total} "
        f"in one DM; replies took {result['replies_s']:.1f} s; "
        f"failed replies: {result['failures']}",
        [
            "at message",
            "latency window",
            "median ms",
            "prompt tokens",
            "checkpoint bytes",
            "checkpoint rows",
        ],
        [
            [
                f"#{r['position']}",
                r["window"],
                r["median_ms"],
                r["prompt_tokens"],
                r["thread_bytes"],
                r["thread_rows"],
            ]
            for r in result["rows"]
        ],
    )
    first, last = result["rows"][0], result["rows"][-1]
    by_position = {r["position"]: r for r in result["rows"]}
    at_50 = by_position.get(50, first)
    calls = result["llm_calls"]
    summary = [
        [
            f"last/first latency ({last['window']} vs {first['window']})",
            f"{last['median_ms'] / first['median_ms']:.2f}x",
            "<= 1.2x",
        ],
        [
            f"prompt tokens #{last['position']} vs #{at_50['position']}",
            f"{last['prompt_tokens']:,} vs {at_50['prompt_tokens']:,}",
            "bounded",
        ],
        [
            "checkpoint bytes for the thread (end, after background work)",
            f"{result['final_thread_bytes']:,} ({result['final_thread_rows']:,} rows)",
            "< 2 MB (2,097,152) at 1,000 messages",
        ],
        [
            "LLM calls chat / extract / other",
            f"{calls['chat']} / {calls['extract']} / {calls['other']}",
            "",
        ],
        [
            "LLM calls per message",
            f"{sum(calls.values()) / total:.2f}",
            "<= 1.3",
        ],
    ]
    print_table(f"summary ({result['design']})", ["figure", "value", "target"], summary)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.long_conversation", description=__doc__)
    add_backend_argument(parser)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="scripted LLM latency")
    parser.add_argument("--window", type=int, default=10, help="messages per latency median")
    parser.add_argument("--baseline", action="store_true", help="also run the baseline design")
    parser.add_argument("--baseline-messages", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.baseline_messages, args.window = 30, 12, 3
    return args


async def run(args: argparse.Namespace) -> None:
    print(machine_line(), "(at start)")
    designs = [("ours", args.messages)]
    if args.baseline:
        designs.append(("baseline", args.baseline_messages))
    for design, total in designs:
        async with bench_database(args.backend) as db:
            result = await converse(design, db, total, args.latency_ms, args.window)
        report(args.backend, result)


def main(argv: list[str] | None = None) -> int:
    asyncio.run(run(parse(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
