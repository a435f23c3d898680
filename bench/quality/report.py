"""The figures of a run: accuracy overall, by type and on abstention; cost per question and
per ingested message; printed as a table and written as JSON."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.quality.meter import PhaseUsage, UsageMeter
from bench.quality.runner import RunResult


def _accuracy(flags: list[bool]) -> dict[str, Any]:
    return {
        "n": len(flags),
        "correct": sum(flags),
        "accuracy": round(sum(flags) / len(flags), 4) if flags else None,
    }


def _sum(usages: list[PhaseUsage]) -> PhaseUsage:
    total = PhaseUsage()
    for usage in usages:
        total.calls += usage.calls
        total.input_tokens += usage.input_tokens
        total.output_tokens += usage.output_tokens
        total.estimated |= usage.estimated
    return total


def build(result: RunResult, meter: UsageMeter, settings: dict[str, Any]) -> dict[str, Any]:
    """The JSON report (see bench/README.md for every key)."""
    by_type: dict[str, list[bool]] = defaultdict(list)
    for answered in result.answered:
        by_type[answered.question.type].append(answered.correct)
    abstention = [a.correct for a in result.answered if a.question.abstention]
    phases = meter.by_phase
    ingest = _sum([u for k, u in phases.items() if k.startswith("ingest:")])
    answers = _sum([u for k, u in phases.items() if k.startswith("answer:")])
    questions = len(result.answered)
    messages = result.ingested
    return {
        **settings,
        "questions": questions,
        "accuracy": _accuracy([a.correct for a in result.answered]),
        "by_type": {t: _accuracy(v) for t, v in sorted(by_type.items())},
        "abstention": _accuracy(abstention),
        "answer": {
            "llm_calls_per_question": round(answers.calls / questions, 3) if questions else None,
            "prompt_tokens_per_question": round(answers.input_tokens / questions, 1)
            if questions
            else None,
        },
        "ingest": {
            "messages": messages,
            "llm_calls": ingest.calls,
            "llm_calls_per_message": round(ingest.calls / messages, 3) if messages else None,
            "input_tokens_per_message": round(ingest.input_tokens / messages, 1)
            if messages
            else None,
            "output_tokens_per_message": round(ingest.output_tokens / messages, 1)
            if messages
            else None,
        },
        "tokens_estimated": ingest.estimated or answers.estimated,
        "failed_replies": sum(a.failed for a in result.answered),
        "wall_seconds": round(result.wall_seconds, 2),
        "results": [
            {
                "question_id": a.question.id,
                "question_type": a.question.type,
                "abstention": a.question.abstention,
                "question": a.question.text,
                "answer": a.question.answer,
                "hypothesis": a.response,
                "correct": a.correct,
                "judge": a.judge_said,
                "answer_prompt_tokens": phases[f"answer:{a.question.id}"].input_tokens,
            }
            for a in result.answered
        ],
    }


def render(report: dict[str, Any]) -> str:
    def pct(block: dict[str, Any]) -> str:
        if block["accuracy"] is None:
            return "-"
        return f"{100 * block['accuracy']:.1f}% ({block['correct']}/{block['n']})"

    lines = [
        f"dataset={report['dataset']} model={report['model']} judge={report['judge_model']} "
        f"backend={report['backend']}",
        f"accuracy: {pct(report['accuracy'])}",
    ]
    lines += [f"  {kind:<28} {pct(block)}" for kind, block in report["by_type"].items()]
    if report["abstention"]["n"]:
        lines.append(f"  {'abstention (_abs)':<28} {pct(report['abstention'])}")
    estimated = " (estimated: characters / 4)" if report["tokens_estimated"] else ""
    answer, ingest = report["answer"], report["ingest"]
    lines += [
        f"answer-prompt tokens / question: {answer['prompt_tokens_per_question']}{estimated}",
        f"ingested messages: {ingest['messages']}",
        f"extraction LLM calls / message: {ingest['llm_calls_per_message']}",
        f"extraction tokens / message: {ingest['input_tokens_per_message']} in, "
        f"{ingest['output_tokens_per_message']} out{estimated}",
        f"failed replies: {report['failed_replies']}",
        f"wall time: {report['wall_seconds']} s",
    ]
    return "\n".join(lines)


def write(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_hypotheses(report: dict[str, Any], path: Path) -> None:
    """One `{"question_id", "hypothesis"}` per line: what LongMemEval's evaluate_qa.py reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row in report["results"]:
            line = {"question_id": row["question_id"], "hypothesis": row["hypothesis"]}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
