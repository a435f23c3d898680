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
    """What a button carries: the owner's user key and, for `forget` and `why`, the item id
    (for `undo`, the change set id)."""

    owner: str
    item_id: str = ""

    def encode(self) -> str:
        return json.dumps({"o": self.owner, "i": self.item_id}, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str | None) -> ButtonValue | None:
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
