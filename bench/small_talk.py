"""Junk from small talk, and what avoiding it costs in LLM calls.

    python -m bench.small_talk [--backend postgres|sqlite] [--users 10] [--messages 30]
                               [--every 1] [--quick]

The LLM is the tests' "eager" stand-in (tests/rules.py:eager_script): made to call a tool,
it inserts the last message verbatim as a fact, as a real model tends to; left to choose, it
follows the careful rules. Each user sends the usual workload (bench/workload.py: mostly
questions, about 3 in 10 messages worth keeping) and learning runs every `--every` messages.
Two designs, each on a database of its own:

- forced: trustcall's forced tool choice on every extraction (the engine before
  memory/learning/toolchoice.py);
- left to the model: the engine as shipped.

Printed per design: LLM calls per message (replies, extractions), facts stored, and junk
facts (a whole message stored verbatim). A separate "anything worth keeping?" question
before each extraction (the other way to avoid junk) would add one call per extraction:
that figure is computed from the measured extractions, not run.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bench.common import (
    add_backend_argument,
    bench_database,
    engine_on,
    machine_line,
    release_store,
)
from bench.report import print_table
from bench.scripted import BenchModel
from bench.workload import bench_user, dm_of, message, user_text
from bot.storage import open_storage
from memory.engine import EngineConfig
from memory.learning.extraction import MemoryExtractor
from tests.rules import eager_script


async def measure(args: argparse.Namespace, forced: bool) -> dict[str, Any]:
    model = BenchModel(script=eager_script)
    async with (
        bench_database(args.backend) as db,
        open_storage(db.url, db.data_dir) as storage,
    ):
        config = EngineConfig(quiet_seconds=86_400, every_messages=1_000_000)
        engine = engine_on(storage, model, config)
        if forced:
            engine.learner.extractor = MemoryExtractor(model, forced_choice=True)
        facts = junk = 0
        try:
            for index in range(args.users):
                user = bench_user(index)
                for n in range(args.messages):
                    await engine.reply(message(user, dm_of(user), n, index))
                    if (n + 1) % args.every == 0 or n + 1 == args.messages:
                        await engine.learn_now(user.key)
                said = {user_text(index, n) for n in range(args.messages)}
                memory = await engine.repository.load(user.key)
                contents = [str(item.data.get("content")) for item in memory.facts.values()]
                facts += len(contents)
                junk += sum(1 for c in contents if c in said)
        finally:
            await engine.scheduler.close()
            await release_store(storage.store)
    messages = args.users * args.messages
    return {
        "design": "forced" if forced else "left to the model",
        "chat": model.count("chat") / messages,
        "extract": model.count("extract") / messages,
        "extractions": model.count("extract"),
        "facts": facts,
        "junk": junk,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_backend_argument(parser)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--messages", type=int, default=30, help="messages per user")
    parser.add_argument("--every", type=int, default=1, help="learn after this many messages")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    args = parser.parse_args()
    if args.quick:
        args.users, args.messages = 2, 8
    print(machine_line())
    print(
        f"backend={args.backend} users={args.users} messages/user={args.messages} "
        f"learn every {args.every}"
    )
    rows = []
    for forced in (True, False):
        found = asyncio.run(measure(args, forced))
        rows.append(
            [
                found["design"],
                found["chat"],
                found["extract"],
                found["facts"],
                found["junk"],
            ]
        )
    extractions_per_message = rows[1][2]
    print_table(
        "small talk: LLM calls per message and facts stored",
        ["design", "reply calls/msg", "extraction calls/msg", "facts", "junk facts"],
        rows,
    )
    print(
        f"\nextra LLM calls / message, left to the model vs forced: {rows[1][2] - rows[0][2]:+.2f}"
        f"\nextra LLM calls / message, a separate gate before each extraction (computed): "
        f"{extractions_per_message:+.2f}"
    )


if __name__ == "__main__":
    main()
