"""The scripted stand-ins that let the harness run offline (CI): a reader and a judge.

The reader is the project's rule-following model (tests/rules.py) for learning; for a
question it answers with the remembered lines that share a word with the question, or
"I don't know." when none does. The judge says yes when every comma-separated part of the
correct answer appears in the response, and, for an abstention question, when the response
says it doesn't know. Neither is a language model: together they show the harness and the
engine's plumbing work, and what the rules let through, never how good a model is.
"""

from __future__ import annotations

import json
import re

from langchain_core.messages import AIMessage, HumanMessage

from memory.agent.relevance import words
from tests.rules import MEMORY, memory_script
from tests.scripted_model import ScriptedCall, ScriptedChatModel

DONT_KNOW = "I don't know."


def reader_script(request: ScriptedCall) -> AIMessage:
    if request.tools:
        return memory_script(request)
    block = MEMORY.search(request.system)
    lines = block.group(1).splitlines() if block else []
    question = next((m.text for m in reversed(request.messages) if isinstance(m, HumanMessage)), "")
    asked = set(words(question))
    relevant = [line for line in lines if asked & set(words(line))]
    return AIMessage(content="\n".join(relevant) if relevant else DONT_KNOW)


def _between(text: str, start: str, end: str) -> str:
    found = re.search(re.escape(start) + r"(.*?)" + re.escape(end), text, re.S)
    return found.group(1).strip() if found else ""


def contains_answer(answer: str, response: str) -> bool:
    parts = [p.strip().lower() for p in answer.split(",") if p.strip()]
    return bool(parts) and all(p in response.lower() for p in parts)


def judge_script(request: ScriptedCall) -> AIMessage:
    prompt = request.last_text
    if "Gold answer:" in prompt:  # LoCoMo; its prompt's own example comes first
        prompt = prompt.rsplit("real question:", 1)[-1]
        gold = _between(prompt, "Gold answer:", "\nGenerated answer:")
        said = _between(prompt, "Generated answer:", "\n\nFirst,")
        label = "CORRECT" if contains_answer(gold, said) else "WRONG"
        return AIMessage(content=json.dumps({"label": label}))
    response = _between(prompt, "Model Response:", "\n\n")
    if "unanswerable" in prompt:
        return AIMessage(content="yes" if DONT_KNOW.lower() in response.lower() else "no")
    answer = _between(prompt, "Correct Answer:", "\n\nModel Response:") or _between(
        prompt, "Rubric:", "\n\nModel Response:"
    )
    return AIMessage(content="yes" if contains_answer(answer, response) else "no")


def scripted_reader() -> ScriptedChatModel:
    return ScriptedChatModel(script=reader_script)


def scripted_judge() -> ScriptedChatModel:
    return ScriptedChatModel(script=judge_script)
