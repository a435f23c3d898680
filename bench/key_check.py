"""What the start-up key check costs as the number of wrapped data keys grows.

    python -m bench.key_check [--backend postgres|sqlite] [--keys 10000] [--quick]

With MEMORY_ENCRYPTION_KEY set, every person, conversation and inbox author has a data key,
stored wrapped by the master key. At start the bot reads the header of every wrapped key (the
id of the master key that wrapped it, no decryption) and unwraps the newest 100
(`KeyRing.check_wrapped`), so a key wrapped with a master key that is no longer configured is
found wherever it lies. Printed: the time of that check, and for comparison the time to
unwrap every key (`check_wrapped(everything=True)`, what rotate-key does at its end); each
the median of 3 runs.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from typing import Any

from langgraph.store.base import PutOp

from bench.common import add_backend_argument, bench_database, machine_line
from bench.report import print_table
from bot.storage import open_storage
from memory.storage.sealing import KEYS_ROOT, DataKeyRef, KeyRing, owner_label

SECRET = "bench passphrase"
BATCH = 1_000
ROUNDS = 3


async def measure(args: argparse.Namespace) -> list[list[Any]]:
    ring = KeyRing(SECRET)
    async with (
        bench_database(args.backend) as db,
        open_storage(db.url, db.data_dir, sealer=ring) as storage,
    ):
        # Written straight to the store in batches: making them one by one is not measured.
        for start in range(0, args.keys, BATCH):
            ops = []
            for n in range(start, min(start + BATCH, args.keys)):
                ref = DataKeyRef(owner_label(f"bench:owner {n}"), secrets.token_hex(8))
                row = ring._wrapped_row(ref, secrets.token_bytes(32), time.time())
                ops.append(PutOp((KEYS_ROOT, ref.label), ref.kid, row, index=False))
            await storage.store.abatch(ops)
        rows = []
        for label, everything in (("start-up check (headers)", False), ("unwrap all", True)):
            times = []
            for _ in range(ROUNDS):  # the median: the first read of the table warms caches
                fresh = KeyRing(SECRET, store=storage.store)  # nothing cached
                started = time.perf_counter()
                checked = await fresh.check_wrapped(everything=everything)
                times.append(time.perf_counter() - started)
            seconds = statistics.median(times)
            rows.append([label, checked, round(seconds * 1000), round(seconds * 1e6 / checked)])
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_backend_argument(parser)
    parser.add_argument("--keys", type=int, default=10_000, help="wrapped data keys stored")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    args = parser.parse_args()
    if args.quick:
        args.keys = 300
    print(machine_line())
    print(f"backend={args.backend} keys={args.keys}")
    rows = asyncio.run(measure(args))
    print_table("key check: time for all wrapped keys", ["check", "keys", "ms", "µs / key"], rows)


if __name__ == "__main__":
    main()
