"""A rule-following stand-in for the LLM: replies echo the recalled memory; extraction follows
a few phrasings ("my name is", "remember that", "remind me to", "I did", "I no longer", "forget"),
as a careful model would, so the whole engine (graph, trustcall, store) runs for real in tests."""

from __future__ import annotations

import ast
import re
from datetime import date, timedelta
from typing import Any

from langchain_core.messages import AIMessage

from tests.scripted_model import ScriptedCall, call

INSTANCE = re.compile(r'<instance id=(\S+) schema_type="(\w+)">\n(.*?)\n</instance>', re.S)
MEMORY = re.compile(r"<memory>\n(.*?)\n</memory>", re.S)
# The date line memory.agent.timeline puts before messages in a learning transcript.
SAID = re.compile(r"^\[\w{3} (\d{4}-\d{2}-\d{2}) \d{2}:\d{2} UTC\]$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAYS = "|".join(WEEKDAYS)
WHEN = re.compile(rf"\s+(tomorrow|next (?:{DAYS})|on (\d{{4}}-\d{{2}}-\d{{2}}))$", re.I)


def existing_docs(text: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """The documents trustcall showed the model: id -> (schema name, fields)."""
    return {m[0]: (m[1], ast.literal_eval(m[2])) for m in INSTANCE.findall(text)}


def said_lines(prompt: str) -> list[str]:
    """The person's lines in an extraction prompt (a transcript or a correction)."""
    return [text for _, text in dated_lines(prompt)]


def dated_lines(prompt: str) -> list[tuple[date | None, str]]:
    """The person's lines, each with the date it was said (from the transcript's date lines)."""
    correction = re.search(r"<correction>\n(.*?)\n</correction>", prompt, re.S)
    if correction:
        return [(None, correction.group(1).strip())]
    lines: list[tuple[date | None, str]] = []
    said: date | None = None
    for line in prompt.splitlines():
        if header := SAID.match(line):
            said = date.fromisoformat(header.group(1))
            continue
        speaker, sep, text = line.partition(": ")
        if sep and speaker != "assistant" and speaker != "Conversation":
            lines.append((said, text.strip()))
    return lines


def split_when(text: str, said: date | None) -> tuple[str, str | None]:
    """'book the venue next Friday' said on Mon 2026-03-02 -> ('book the venue', '2026-03-06'),
    as a careful model reading the transcript's dates would; unchanged without a date."""
    found = WHEN.search(text)
    if not found:
        return text, None
    phrase = found.group(1).lower()
    if found.group(2):
        return text[: found.start()], found.group(2)
    if said is None:
        return text, None
    if phrase == "tomorrow":
        return text[: found.start()], (said + timedelta(days=1)).isoformat()
    weekday = WEEKDAYS.index(phrase.split()[1])
    ahead = (weekday - said.weekday() - 1) % 7 + 1  # the first such day after the day it was said
    return text[: found.start()], (said + timedelta(days=ahead)).isoformat()


def _find(
    docs: dict[str, tuple[str, dict[str, Any]]], schema: str, field: str, needle: str
) -> str | None:
    for doc_id, (name, data) in docs.items():
        if name == schema and needle.lower() in str(data.get(field, "")).lower():
            return doc_id
    return None


def _patch(doc_id: str, *ops: dict[str, Any]) -> dict[str, Any]:
    return call(
        "PatchDoc", json_doc_id=doc_id, planned_edits="apply what was said", patches=list(ops)
    )


def extraction_calls(prompt: str, system: str) -> list[dict[str, Any]]:
    docs = existing_docs(system)
    calls: list[dict[str, Any]] = []
    profile: dict[str, Any] = {}
    for said, text in dated_lines(prompt):
        if m := re.search(r"my name is (\w+)", text, re.I):
            profile["name"] = m.group(1)
        if m := re.search(r"\b[Ii] (?:live|moved) (?:in|to) ([A-Z][\w ]*?)(?:[.!,]|$)", text):
            profile["location"] = m.group(1)
        if m := re.search(r"\bi like (\w+)", text, re.I):
            profile.setdefault("interests", []).append(m.group(1))
        if m := re.search(r"remember that (.+?)[.!]?$", text, re.I):
            fact, when = split_when(m.group(1), said)
            if _find(docs, "Fact", "content", fact) is None and not any(
                c["args"].get("content") == fact for c in calls
            ):
                # A careful model names who a fact is about; "Bob hates meetings" is Bob's.
                first = fact.split()[0]
                subject = first if first[:1].isupper() and first not in ("I", "I'm") else "self"
                extra = {"when": when} if when else {}
                calls.append(call("Fact", content=fact, subject=subject, **extra))
        if m := re.search(r"remind me to (.+?)[.!]?$", text, re.I):
            task, due = split_when(m.group(1), said)
            calls.append(call("Todo", task=task, **({"due": due} if due else {})))
        if m := re.search(r"i (?:did|finished|have done) (.+?)[.!]?$", text, re.I):
            todo = _find(docs, "Todo", "task", m.group(1))
            if todo:
                calls.append(_patch(todo, {"op": "replace", "path": "/status", "value": "done"}))
        if m := re.search(r"not (.+?) but (.+?)[.!]?$", text, re.I):
            old, new = m.group(1), m.group(2)
            fact_id = _find(docs, "Fact", "content", old)
            if fact_id:
                content = str(docs[fact_id][1]["content"]).replace(old, new)
                calls.append(
                    _patch(fact_id, {"op": "replace", "path": "/content", "value": content})
                )
        if m := re.search(r"\bi no longer (.+?)[.!]?$", text, re.I):
            # Contradicted: a careful model removes the outdated fact on its own.
            fact_id = _find(docs, "Fact", "content", m.group(1))
            if fact_id:
                calls.append(call("RemoveDoc", json_doc_id=fact_id))
        if m := re.search(r"forget (?:that )?(.+?)[.!]?$", text, re.I):
            fact_id = _find(docs, "Fact", "content", m.group(1))
            if fact_id:
                calls.append(call("RemoveDoc", json_doc_id=fact_id))
    if profile:
        if "profile" in docs:
            ops = []
            for key, value in profile.items():
                if isinstance(value, list):  # append to a list field, keeping what is there
                    ops.extend({"op": "add", "path": f"/{key}/-", "value": v} for v in value)
                else:
                    ops.append({"op": "add", "path": f"/{key}", "value": value})
            calls.append(_patch("profile", *ops))
        else:
            calls.append(call("Profile", **profile))
    return calls


def memory_script(request: ScriptedCall) -> AIMessage:
    """Chat turns echo the memory block; extraction turns emit tool calls by the rules above."""
    if "Fact" in request.tools or "PatchDoc" in request.tools:
        prompt = request.last_text
        return AIMessage(content="", tool_calls=extraction_calls(prompt, request.system))
    return AIMessage(content=chat_reply(request.system))


def chat_reply(system: str) -> str:
    """What the stand-in says in a chat turn: the memory it was shown, so tests can see recall."""
    block = MEMORY.search(system)
    remembered = block.group(1) if block else ""
    return f"Noted. What I remember:\n{remembered}"


def forced(request: ScriptedCall) -> bool:
    """Was the model made to call a tool (trustcall's "any", OpenAI's "required", or a name)?"""
    choice = request.tool_choice
    if isinstance(choice, dict):
        return True
    return choice in ("any", "required") or (isinstance(choice, str) and choice in request.tools)


def eager_script(request: ScriptedCall) -> AIMessage:
    """What a real model tends to do when made to call a tool with nothing to keep: insert the
    last thing said as a fact. Left to choose, it follows the careful rules above."""
    if request.tools and forced(request) and "PatchFunctionErrors" not in request.tools:
        # The person's last line: the transcript ends with it, or with the (multi-line) reply.
        before_reply = request.last_text.rsplit("\nassistant: ", 1)[0]
        last = before_reply.splitlines()[-1].partition(": ")[2].strip()
        return AIMessage(content="", tool_calls=[call("Fact", content=last)])
    return memory_script(request)
