"""Memory quality: replay a LongMemEval or LoCoMo file through the engine and judge the answers.

    python -m bench.quality --data PATH --model MODEL --judge-model MODEL
        [--backend sqlite|postgres] [--embeddings SPEC] [--limit N] [--types T,...]
        [--concurrency 4] [--report PATH] [--hypotheses PATH]

MODEL is any `init_chat_model` string (`openai:gpt-4o-mini`, `anthropic:...`) or `scripted`
(the rule-following stand-in, for checking the harness offline). The judge runs at
temperature 0 unless `--judge-temperature -1` leaves the provider's default. Nothing is
downloaded: PATH is a file you have (see bench/README.md for where the public ones live).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain.chat_models import init_chat_model
from langchain_core.language_models import BaseChatModel

from bench.common import bench_database, engine_on, release_store
from bench.quality import report as reporting
from bench.quality.dataset import DatasetError, load
from bench.quality.meter import UsageMeter
from bench.quality.runner import run
from bench.quality.scripted import scripted_judge, scripted_reader
from bot.models import load_embeddings, load_model
from bot.storage import open_storage
from memory.agent.semantic import SemanticIndex
from memory.engine import EngineConfig

SCRIPTED = "scripted"
# Learning is driven by the replay; the questions themselves are never learned from.
CONFIG = EngineConfig(quiet_seconds=86_400, every_messages=1_000_000)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="LongMemEval or LoCoMo JSON")
    parser.add_argument("--model", required=True, help="the bot's model, or 'scripted'")
    parser.add_argument("--judge-model", required=True, help="the judge, or 'scripted'")
    parser.add_argument("--judge-temperature", type=float, default=0.0)
    parser.add_argument("--embeddings", default="", help="EMBEDDINGS spec for semantic recall")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--limit", type=int, default=0, help="first N questions only")
    parser.add_argument("--types", default="", help="comma-separated question types")
    parser.add_argument("--concurrency", type=int, default=4, help="histories at a time")
    parser.add_argument("--report", type=Path, default=Path("quality-report.json"))
    parser.add_argument("--hypotheses", type=Path, help="also write LongMemEval's jsonl")
    return parser.parse_args(argv)


def _judge(spec: str, temperature: float) -> BaseChatModel:
    if spec == SCRIPTED:
        return scripted_judge()
    options: dict[str, Any] = {"timeout": 60, "max_retries": 3}
    if temperature >= 0:
        options["temperature"] = temperature
    return init_chat_model(spec, **options)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    dataset = load(args.data).select(
        [t.strip() for t in args.types.split(",") if t.strip()], args.limit
    )
    model = scripted_reader() if args.model == SCRIPTED else load_model(args.model)
    judge = _judge(args.judge_model, args.judge_temperature)
    meter = UsageMeter()
    for chat in {id(model): model, id(judge): judge}.values():
        chat.callbacks = [meter]
    semantic = SemanticIndex(load_embeddings(args.embeddings)) if args.embeddings else None
    async with (
        bench_database(args.backend) as database,
        open_storage(database.url, database.data_dir) as storage,
    ):
        engine = engine_on(storage, model, CONFIG, semantic=semantic)

        async def progress(answered: Any) -> None:
            mark = "ok " if answered.correct else "no "
            print(f"{mark} {answered.question.type:<26} {answered.question.id}", flush=True)

        try:
            result = await run(
                engine, judge, dataset, concurrency=args.concurrency, progress=progress
            )
        finally:
            await engine.scheduler.close()
            await release_store(storage.store)
    settings = {
        "dataset": dataset.name,
        "model": args.model,
        "judge_model": args.judge_model,
        "backend": args.backend,
        "embeddings": args.embeddings or None,
    }
    return reporting.build(result, meter, settings)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = asyncio.run(main_async(args))
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(reporting.render(report))
    reporting.write(report, args.report)
    print(f"report: {args.report}")
    if args.hypotheses:
        reporting.write_hypotheses(report, args.hypotheses)
        print(f"hypotheses: {args.hypotheses}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
