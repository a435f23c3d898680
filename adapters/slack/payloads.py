"""Typed shapes of the Slack payloads the bot acts on, checked before any listener sees them.

Only the fields the bot reads are declared (everything else passes through untouched); each is
strict, so a number where Slack sends a string, or a `ts` that is not `seconds.micros`, is a
malformed payload: refused at the edge, never a traceback inside a handler. Field types follow
Slack's Events API and interactivity payload references (api.slack.com/events,
api.slack.com/reference/interaction-payloads).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

Id = Annotated[str, StringConstraints(strict=True, max_length=255)]
# A Slack timestamp: "1700000000.000100" (seconds, a dot, microseconds).
Ts = Annotated[str, StringConstraints(strict=True, pattern=r"^\d{1,12}\.\d{1,9}$")]
Text = Annotated[str, StringConstraints(strict=True)]


# Slack's rich text nests a few levels (blocks > elements > elements > ...); far deeper is not
# something Slack sends, and every recursive reader (json, logging, sealing) would choke on it.
MAX_DEPTH = 64


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class MessageEvent(_Shape):
    """A `message` or `app_mention` event."""

    type: Id
    channel: Id
    ts: Ts
    user: Id | None = None
    text: Text | None = None
    thread_ts: Ts | None = None
    event_ts: Ts | None = None
    channel_type: Id | None = None
    subtype: Id | None = None
    bot_id: Id | None = None
    team: Id | None = None
    blocks: list[dict[str, Any]] | None = None


class OtherEvent(_Shape):
    """Any other event (app_home_opened, ...): the fields every listener may read."""

    type: Id
    user: Id | None = None
    channel: Id | None = None
    tab: Id | None = None


class Authorization(_Shape):
    """One entry of an event envelope's `authorizations`: an installation the event is
    delivered for (https://api.slack.com/apis/events-api#callback-field)."""

    team_id: Id | None = None
    user_id: Id | None = None
    enterprise_id: Id | None = None


class EventCallback(_Shape):
    """The Events API envelope of `type` "event_callback"
    (https://api.slack.com/apis/events-api#callback-field). `event` stays a dict here and is
    checked as a MessageEvent or OtherEvent by `problems`."""

    type: Id
    event_id: Id
    team_id: Id | None = None
    enterprise_id: Id | None = None
    api_app_id: Id | None = None
    authorizations: list[Authorization] | None = None
    event: dict[str, Any]


class Action(_Shape):
    """One pressed element of a block_actions payload: its `action_id` (at most 255
    characters) and, for a button, its `value` (at most 2000 characters; Slack's button
    element reference, https://docs.slack.dev/reference/block-kit/block-elements/button-element)."""

    action_id: Id
    value: Text | None = None


class Presser(_Shape):
    """The `user` of an interactivity payload: who pressed or submitted, and their team."""

    id: Id
    team_id: Id | None = None


class BlockActions(_Shape):
    """A block_actions payload (a button pressed in a message or in App Home;
    https://api.slack.com/reference/interaction-payloads/block-actions). Invalid (a
    ValidationError from `model_validate`) when it has neither `response_url` nor `view`,
    since the bot could not answer it."""

    type: Id
    user: Presser
    actions: list[Action]
    # Where the answer goes: a message's response_url, or the App Home view pressed in.
    response_url: Text | None = None
    view: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _answerable(self) -> BlockActions:
        """pydantic after-validator: refuses a payload with nowhere to send the answer."""
        if self.response_url is None and self.view is None:
            raise ValueError("neither response_url nor view")
        return self


class View(_Shape):
    """The `view` of a view_submission / view_closed payload: its type ("modal", "home")
    and id."""

    type: Id
    id: Id | None = None


class ViewPayload(_Shape):
    """view_submission / view_closed (bolt reads `view.type` before any listener)."""

    type: Id
    user: Presser
    view: View


class Envelope(_Shape):
    """Any Events API or interactivity payload: only its `type`, read first to pick the
    shape that checks the rest."""

    type: Id


def problems(body: Any) -> list[str]:
    """Why `body` (a parsed Events API or interactivity payload) is malformed: the paths of
    the offending fields, never their values (they may hold what someone wrote). Empty when
    the payload is well formed. Slash commands are forms of strings and need no check."""
    try:
        if not isinstance(body, dict):
            return ["body: not an object"]
        if _too_deep(body):
            return ["body: nested too deep"]
        if "command" in body and "type" not in body:
            return []
        kind = Envelope.model_validate(body).type
        if kind == "event_callback":
            event = EventCallback.model_validate(body).event
            shape = MessageEvent if event.get("type") in ("message", "app_mention") else OtherEvent
            shape.model_validate(event)
        elif kind == "block_actions":
            BlockActions.model_validate(body)
        elif kind in ("view_submission", "view_closed"):
            ViewPayload.model_validate(body)
    except ValidationError as exc:
        return sorted({".".join(str(p) for p in error["loc"]) or "body" for error in exc.errors()})
    return []


def _too_deep(value: Any) -> bool:
    """Is `value` nested deeper than MAX_DEPTH? Iterative, so depth itself cannot hurt."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False
