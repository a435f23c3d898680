"""The memory-quality harness: loading LoCoMo, judging with its prompt, refusing other files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.quality.__main__ import main, main_async, parse_args
from bench.quality.dataset import DatasetError, load
from bench.quality.judge import judge_prompt
from tests.fakes.openai_server import ChatRequest, FakeOpenAI, FakeResponse

DATA = Path(__file__).resolve().parents[2] / "bench" / "quality" / "data" / "memory_bot_qa.json"


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


async def test_a_real_chat_model_over_the_wire(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """ChatOpenAI against the fake server, as a deployer runs it: tokens are the provider's."""

    def responder(request: ChatRequest) -> FakeResponse:
        text = request.all_text()
        if request.tools:
            if "Dr Silva" in request.last_user_text():
                return FakeResponse.call("Fact", {"content": "my dentist is Dr Silva"})
            return FakeResponse.text("Nothing worth keeping.")
        if "Is the model response correct?" in text:
            right = "Model Response: Your dentist is Dr Silva." in text
            return FakeResponse.text("yes" if right else "no")
        if "my dentist is Dr Silva" in request.system_text():
            return FakeResponse.text("Your dentist is Dr Silva.")
        return FakeResponse.text("I don't know.")

    async with FakeOpenAI(responder) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        monkeypatch.setenv("LANGSMITH_TRACING", "false")
        args = parse_args(
            [
                "--data",
                str(DATA),
                "--model",
                "openai:gpt-test",
                "--judge-model",
                "openai:gpt-test",
                "--types",
                "single-session-user",
                "--limit",
                "1",
                "--report",
                str(tmp_path / "r.json"),
            ]
        )
        report = await main_async(args)
        requests = list(server.chat_requests)

    assert report["accuracy"] == {"n": 1, "correct": 1, "accuracy": 1.0}
    assert report["tokens_estimated"] is False
    extractions = [r for r in requests if r.tools]
    assert report["ingest"]["llm_calls"] == len(extractions) > 0
    judged = [r for r in requests if "Is the model response correct?" in r.all_text()]
    assert len(judged) == 1 and judged[0].body.get("temperature") == 0
    [answer_call] = [r for r in requests if not r.tools and r not in judged]
    assert report["results"][0]["answer_prompt_tokens"] > 0
    assert "Current time: Tue 2026-03-10 12:00 UTC" in answer_call.system_text()
