"""The judge: asks a model whether an answer is right, with each benchmark's own prompt.

LongMemEval prompts, one per question type, and its abstention prompt for ids ending in
`_abs`, are those of `get_anscheck_prompt` in xiaowu0162/LongMemEval
`src/evaluation/evaluate_qa.py` (MIT licence); a judgement is "yes" when the judge's answer
contains "yes", as there. LoCoMo is judged with the prompt behind the LLM-judge ("J") figures
the Mem0 paper reports for LoCoMo (Chhikara et al. 2025, arXiv:2504.19413;
mem0ai/mem0 `evaluation/metrics/llm_judge.py`, Apache-2.0): the label is CORRECT or WRONG.
The prompts are kept word for word so scores stay comparable with the published ones.
"""

from __future__ import annotations

import json
import re

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from bench.quality.dataset import Question, is_locomo_type

_CHECK = (
    "I will give you a question, a correct answer, and a response from a model. Please answer "
    "yes if the response contains the correct answer. Otherwise, answer no. If the response is "
    "equivalent to the correct answer or contains all the intermediate steps to get the correct "
    "answer, you should also answer yes. If the response only contains a subset of the "
    "information required by the answer, answer no. "
)
_TAIL = (
    "\n\nQuestion: {}\n\nCorrect Answer: {}\n\nModel Response: {}\n\n"
    "Is the model response correct? Answer yes or no only."
)
LONGMEMEVAL_PROMPTS = {
    "single-session-user": _CHECK + _TAIL,
    "single-session-assistant": _CHECK + _TAIL,
    "multi-session": _CHECK + _TAIL,
    "temporal-reasoning": _CHECK
    + "In addition, do not penalize off-by-one errors for the number of days. If the question "
    "asks for the number of days/weeks/months, etc., and the model makes off-by-one errors "
    "(e.g., predicting 19 days when the answer is 18), the model's response is still correct. "
    + _TAIL,
    "knowledge-update": "I will give you a question, a correct answer, and a response from a "
    "model. Please answer yes if the response contains the correct answer. Otherwise, answer "
    "no. If the response contains some previous information along with an updated answer, the "
    "response should be considered as correct as long as the updated answer is the required "
    "answer." + _TAIL,
    "single-session-preference": "I will give you a question, a rubric for desired "
    "personalized response, and a response from a model. Please answer yes if the response "
    "satisfies the desired response. Otherwise, answer no. The model does not need to reflect "
    "all the points in the rubric. The response is correct as long as it recalls and utilizes "
    "the user's personal information correctly.\n\nQuestion: {}\n\nRubric: {}\n\n"
    "Model Response: {}\n\nIs the model response correct? Answer yes or no only.",
}
LONGMEMEVAL_ABSTENTION = (
    "I will give you an unanswerable question, an explanation, and a response from a model. "
    "Please answer yes if the model correctly identifies the question as unanswerable. The "
    "model could say that the information is incomplete, or some other information is given "
    "but the asked information is not.\n\nQuestion: {}\n\nExplanation: {}\n\n"
    "Model Response: {}\n\nDoes the model correctly identify the question as unanswerable? "
    "Answer yes or no only."
)
# Lines kept as in the source, trailing spaces included.
LOCOMO_PROMPT = "\n".join(
    [
        "",
        "Your task is to label an answer to a question as \u2019CORRECT\u2019 or \u2019WRONG\u2019."
        " You will be given the following data:",
        "    (1) a question (posed by one user to another user), ",
        "    (2) a \u2019gold\u2019 (ground truth) answer, ",
        "    (3) a generated answer",
        "which you will score as CORRECT/WRONG.",
        "",
        "The point of the question is to ask about something one user should know about the"
        " other user based on their prior conversations.",
        "The gold answer will usually be a concise and short answer that includes the referenced"
        " topic, for example:",
        "Question: Do you remember what I got the last time I went to Hawaii?",
        "Gold answer: A shell necklace",
        "The generated answer might be much longer, but you should be generous with your grading"
        " - as long as it touches on the same topic as the gold answer, it should be counted as"
        " CORRECT. ",
        "",
        "For time related questions, the gold answer will be a specific date, month, year, etc."
        ' The generated answer might be much longer or use relative time references (like "last'
        ' Tuesday" or "next month"), but you should be generous with your grading - as long as'
        " it refers to the same date or time period as the gold answer, it should be counted as"
        ' CORRECT. Even if the format differs (e.g., "May 7th" vs "7 May"), consider it CORRECT'
        " if it's the same date.",
        "",
        "Now it's time for the real question:",
        "Question: {question}",
        "Gold answer: {gold_answer}",
        "Generated answer: {generated_answer}",
        "",
        "First, provide a short (one sentence) explanation of your reasoning, then finish with"
        " CORRECT or WRONG. ",
        "Do NOT include both CORRECT and WRONG in your response, or it will break the evaluation"
        " script.",
        "",
        'Just return the label CORRECT or WRONG in a json format with the key as "label".',
        "",
    ]
)


def judge_prompt(question: Question, response: str) -> str:
    """The prompt for this question's type; raises KeyError for a type no paper defines."""
    if is_locomo_type(question.type):
        return LOCOMO_PROMPT.format(
            question=question.text, gold_answer=question.answer, generated_answer=response
        )
    if question.abstention:
        return LONGMEMEVAL_ABSTENTION.format(question.text, question.answer, response)
    return LONGMEMEVAL_PROMPTS[question.type].format(question.text, question.answer, response)


def verdict(question: Question, said: str) -> bool:
    """Read the judge's answer the way each benchmark's own script reads it."""
    if not is_locomo_type(question.type):
        return "yes" in said.lower()
    found = re.search(r"\{.*?\}", said, re.S)
    if found:
        try:
            return str(json.loads(found.group(0)).get("label", "")).upper() == "CORRECT"
        except (json.JSONDecodeError, AttributeError):
            pass
    return "CORRECT" in said and "WRONG" not in said


async def judge(model: BaseChatModel, question: Question, response: str) -> tuple[bool, str]:
    """(correct?, what the judge said)."""
    answer = await model.ainvoke([HumanMessage(content=judge_prompt(question, response))])
    said = answer.text if hasattr(answer, "text") else str(answer.content)
    return verdict(question, said), said
