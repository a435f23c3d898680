"""ChatRequest: one chat-completions call as the responder sees it, with readers for its parts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

JSON: TypeAlias = dict[str, Any]


def _text_of(content: Any) -> str:
    """Flatten an OpenAI message ``content`` (string or list of parts) into plain text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return str(content)


@dataclass(frozen=True)
class ChatRequest:
    """One ``POST /v1/chat/completions`` call, as the responder sees it."""

    body: JSON
    """The JSON body exactly as sent."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """The HTTP request headers (case-insensitive mapping)."""
    index: int = 0
    """0-based position of this call among the chat calls the server has received."""

    @property
    def messages(self) -> list[JSON]:
        """The ``messages`` list as sent (dicts with ``role``, ``content``, ...)."""
        return list(self.body.get("messages") or [])

    @property
    def tools(self) -> list[JSON]:
        """The tool *function* schemas (``{"name", "description", "parameters", ...}``)."""
        out: list[JSON] = []
        for tool in self.body.get("tools") or []:
            if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
                out.append(tool["function"])
        return out

    @property
    def tool_choice(self) -> Any:
        """``tool_choice`` as sent: ``None``, ``"auto"``, ``"required"``, or a dict."""
        return self.body.get("tool_choice")

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    def tool_names(self) -> list[str]:
        """Names of the offered tools, in the order sent."""
        return [str(t.get("name")) for t in self.tools]

    def tool_schema(self, name: str) -> JSON:
        """The JSON schema (``parameters``) of the tool called ``name``; KeyError if absent."""
        for tool in self.tools:
            if tool.get("name") == name:
                params = tool.get("parameters")
                return params if isinstance(params, dict) else {}
        raise KeyError(name)

    def forced_tool_name(self) -> str | None:
        """The tool name if ``tool_choice`` forces one specific function, else ``None``."""
        choice = self.tool_choice
        if isinstance(choice, dict):
            fn = choice.get("function")
            name = fn.get("name") if isinstance(fn, dict) else None
            if isinstance(name, str):
                return name
        return None

    def texts(self, role: str) -> list[str]:
        """The text of every message with ``role``, in order."""
        return [_text_of(m.get("content")) for m in self.messages if m.get("role") == role]

    def last_user_text(self) -> str:
        """Text of the last ``user`` message ("" if there is none)."""
        users = self.texts("user")
        return users[-1] if users else ""

    def system_text(self) -> str:
        """All ``system`` (and ``developer``) message texts joined by blank lines."""
        return "\n\n".join(
            _text_of(m.get("content"))
            for m in self.messages
            if m.get("role") in ("system", "developer")
        )

    def all_text(self) -> str:
        """Every message's text joined by newlines (handy for ``in`` checks)."""
        return "\n".join(_text_of(m.get("content")) for m in self.messages)

    def last_message(self) -> JSON:
        msgs = self.messages
        return msgs[-1] if msgs else {}

    def tool_results(self) -> list[JSON]:
        """The ``role == "tool"`` messages (results of earlier tool calls)."""
        return [m for m in self.messages if m.get("role") == "tool"]
