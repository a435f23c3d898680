"""Recall for a user with many memories: what the graph's recall node does, timed.

    python -m bench.recall [--backend postgres|sqlite] [--iterations 300] [--quick] [SIZES...]

For each size (default: 1000) a user gets that many memories, written through the
repository (2 profiles, 70% facts, the rest todos; a third learned in a channel), then recall
runs `--iterations` times per audience with varying queries: `engine.repository.load()`
(one store round trip) and `memory.agent.prompt.memory_block()` (ranking, budgets), as the recall
node in memory/agent/graph.py does. `--profile` prints where the time goes (cProfile).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import time
from typing import Any

from bench.common import (
    add_backend_argument,
    bench_database,
    engine_on,
    machine_line,
    release_store,
)
from bench.report import percentile, print_table
from bench.scripted import BenchModel
from bench.workload import FACTS, TASKS, TOPICS, bench_user
from bot.storage import open_storage
from memory.agent.prompt import memory_block
from memory.engine import MemoryEngine
from memory.identity import Audience
from memory.schemas import Provenance, StoredItem
from memory.storage.repository import MemoryRepository


def provenance(audience: Audience, n: int) -> Provenance:
    conversation = "bench:dm:u0:s1" if audience == "dm" else "bench:channel:general"
    return Provenance(
        platform="bench", conversation=conversation, message_id=f"m{n}", audience=audience
    )


async def fill(repository: MemoryRepository, user_key: str, size: int) -> None:
    """`size` memories: two profiles, 70% facts, the rest todos; every third from a channel."""
    profile = {"name": "Alice", "role": "engineer", "interests": list(TOPICS[:4])}
    for audience in ("dm", "channel"):
        item = StoredItem(kind="profile", data=profile, provenance=provenance(audience, 0))
        await repository.put(user_key, "profile", audience, item)
    facts = max(0, (size - 2) * 7 // 10)
    for n in range(max(0, size - 2)):
        audience: Audience = "channel" if n % 3 == 0 else "dm"
        topic = TOPICS[n % len(TOPICS)]
        if n < facts:
            section = "facts"
            item = StoredItem(
                kind="fact",
                data={"content": f"I {FACTS[n % len(FACTS)]} and enjoy {topic} ({n})"},
                provenance=provenance(audience, n),
            )
        else:
            section = "todos"
            item = StoredItem(
                kind="todo",
                data={"task": f"{TASKS[n % len(TASKS)]} about {topic} ({n})", "status": "open"},
                provenance=provenance(audience, n),
            )
        await repository.put(user_key, section, f"k{n:05d}", item)  # type: ignore[arg-type]


async def time_recall(
    engine: MemoryEngine, user_key: str, audience: Audience, iterations: int
) -> dict[str, list[float]]:
    loads: list[float] = []
    blocks: list[float] = []
    totals: list[float] = []
    for n in range(iterations):
        query = f"What do you think about {TOPICS[n % len(TOPICS)]} and my plans for today?"
        t0 = time.perf_counter()
        memory = await engine.repository.load(user_key)
        t1 = time.perf_counter()
        block = memory_block(memory, audience, query, engine.config.policy)
        t2 = time.perf_counter()
        if not block:
            raise RuntimeError("recall returned nothing")
        loads.append((t1 - t0) * 1000)
        blocks.append((t2 - t1) * 1000)
        totals.append((t2 - t0) * 1000)
    return {"load": loads, "block": blocks, "total": totals}


async def run(args: argparse.Namespace) -> None:
    print(machine_line(), "(at start)")
    rows: list[list[Any]] = []
    profile_text = ""
    for size in args.sizes:
        async with bench_database(args.backend) as db, open_storage(db.url, db.data_dir) as storage:
            engine = engine_on(storage, BenchModel())
            user_key = bench_user(0).key
            await fill(engine.repository, user_key, size)
            await time_recall(engine, user_key, "dm", 10)  # warm up
            profiler = cProfile.Profile() if args.profile else None
            for audience in ("dm", "channel"):
                if profiler and audience == "dm":
                    profiler.enable()
                timed = await time_recall(engine, user_key, audience, args.iterations)
                if profiler and audience == "dm":
                    profiler.disable()
                for part in ("load", "block", "total"):
                    values = timed[part]
                    rows.append(
                        [
                            size,
                            audience,
                            part,
                            percentile(values, 50),
                            percentile(values, 95),
                            percentile(values, 99),
                        ]
                    )
            await release_store(storage.store)
            if profiler:
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
                stats.print_stats(25)
                profile_text += f"\nprofile of {args.iterations} dm recalls, {size} memories:\n"
                profile_text += out.getvalue()
    print_table(
        f"recall: backend={args.backend} iterations={args.iterations} per audience "
        "(load = repository.load, block = memory_block, total = both; target p95 < 5 ms)",
        ["memories", "audience", "part", "p50 ms", "p95 ms", "p99 ms"],
        rows,
    )
    if profile_text:
        print(profile_text)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.recall", description=__doc__)
    add_backend_argument(parser)
    parser.add_argument("sizes", nargs="*", type=int, default=[1000], help="memories per user")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of dm recall")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.iterations = [20], 5
    return args


def main(argv: list[str] | None = None) -> int:
    asyncio.run(run(parse(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
