"""The /memory buttons: their action ids and values. A value names its owner, so a press by
anyone else can be refused."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

FORGET = "memory_forget"
FORGET_ALL = "memory_forget_all"
FORGET_ALL_CONFIRM = "memory_forget_all_confirm"
CANCEL = "memory_cancel"
PAUSE = "memory_pause"
RESUME = "memory_resume"
EXPORT = "memory_export"
UNDO = "memory_undo"
WHY = "memory_why"

ACTION_IDS = re.compile(r"^memory_[a-z_]+$")


@dataclass(frozen=True)
class ButtonValue:
    """What a button carries: the owner's user key (`slack:T1:U1`) and, for `forget` and
    `why`, the item id (for `undo`, the change set's id; "" otherwise)."""

    owner: str
    item_id: str = ""

    def encode(self) -> str:
        """Compact JSON, `{"o":<owner>,"i":<item id>}`, for a button's `value`; a user key
        and a short item id keep it far below the 2000 characters Slack allows there
        (https://docs.slack.dev/reference/block-kit/block-elements/button-element)."""
        return json.dumps({"o": self.owner, "i": self.item_id}, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str | None) -> ButtonValue | None:
        """The value `encode` made, read back from a pressed button; None for anything else
        (not JSON, not an object, no owner, non-string fields). JSON nested deeper than
        Python's recursion limit raises RecursionError (only a payload signed with the
        app's secret can carry a value, and Slack sends back the one the button had)."""
        try:
            data = json.loads(raw or "")
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        owner, item_id = data.get("o"), data.get("i", "")
        if not isinstance(owner, str) or not owner or not isinstance(item_id, str):
            return None
        return cls(owner, item_id)
