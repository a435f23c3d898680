"""The memory-quality harness: loading LoCoMo, judging with its prompt, refusing other files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.quality.__main__ import main
from bench.quality.dataset import DatasetError, load
from bench.quality.judge import judge_prompt


def locomo_sample() -> list[dict[str, Any]]:
    return [
        {
            "sample_id": "conv-1",
            "conversation": {
                "speaker_a": "Caroline",
                "speaker_b": "Melanie",
                "session_1_date_time": "1:56 pm on 8 May, 2023",
                "session_1": [
                    {"speaker": "Caroline", "dia_id": "D1:1", "text": "Hey Mel!"},
                    {
                        "speaker": "Melanie",
                        "dia_id": "D1:2",
                        "text": "Remember that I paint sunrises.",
                    },
                ],
                "session_2_date_time": "10:00 am on 9 May, 2023",
                "session_2": [],
            },
            "qa": [
                {
                    "question": "What did Melanie paint?",
                    "answer": "sunrise",
                    "evidence": ["D1:2"],
                    "category": 4,
                },
                {
                    "question": "What did Caroline paint?",
                    "adversarial_answer": "a sunrise",
                    "evidence": ["D1:2"],
                    "category": 5,
                },
            ],
        }
    ]


def test_locomo_file_is_replayed_per_speaker_and_judged_with_its_prompt(tmp_path: Path) -> None:
    path = tmp_path / "locomo10.json"
    path.write_text(json.dumps(locomo_sample()))

    dataset = load(path)
    assert [q.asker for q in dataset.questions] == ["Melanie"]  # category 5 left out
    assert dataset.questions[0].type == "single-hop"
    assert "Gold answer: sunrise" in judge_prompt(dataset.questions[0], "x")

    report = tmp_path / "r.json"
    code = main(
        [
            "--data",
            str(path),
            "--model",
            "scripted",
            "--judge-model",
            "scripted",
            "--report",
            str(report),
        ]
    )
    assert code == 0
    loaded = json.loads(report.read_text())
    assert loaded["by_type"] == {"single-hop": {"n": 1, "correct": 1, "accuracy": 1.0}}
    assert loaded["ingest"]["messages"] == 2


def test_a_file_of_another_shape_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"not": "a benchmark"}))
    with pytest.raises(DatasetError):
        load(path)
    assert main(["--data", str(path), "--model", "scripted", "--judge-model", "scripted"]) == 2
