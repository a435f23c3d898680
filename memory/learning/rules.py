"""What learning may touch and keep: the stored items shown to the model, "said again", and
facts about other people."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from memory.agent.relevance import rank
from memory.identity import Audience
from memory.kinds import KindRegistry, known
from memory.learning.extraction import ExistingMemory
from memory.schemas import Kind
from memory.storage.repository import UserMemory

# The model sees at most this many stored items when learning: the ones closest to what was
# said, so the extraction prompt (and its cost) stays bounded however much is remembered.
MAX_ITEMS_SHOWN = 60
ITEMS_SHOWN_CHARS = 12_000


def existing_for(memory: UserMemory, audience: Audience, about: str) -> ExistingMemory:
    """What the model may patch when learning in this audience, from what was said (`about`).

    A channel conversation may only touch channel-learned items, so nothing private can be
    rewritten into something shared. A DM may touch everything; what it touches becomes private.
    Items that no longer fit their kind's schema (memory.storage.evolution) are left alone.
    """
    visible = memory.visible_to(audience)
    profiles = {
        kind.name: document.data
        for kind in memory.kinds.profiles
        if (document := visible.of(kind.name).get(audience)) is not None
        and document.fit != "invalid"
    }
    candidates = {k: v for k, v in visible.items().items() if v.fit != "invalid"}
    shown = rank(about, candidates, limit=MAX_ITEMS_SHOWN, max_chars=ITEMS_SHOWN_CHARS)
    items = {k: (v.kind, v.data) for k, v in shown}
    return ExistingMemory(profiles=profiles, items=items)


def same_text(kind: Kind, data: dict[str, Any], kinds: KindRegistry | None = None) -> str:
    """An item's own words, folded, to tell "said again" from "new" (`kinds`: the
    configuration that describes `kind`; default: the last one that named it)."""
    described = (kinds.by_item(kind) if kinds else None) or known(kind)
    text = described.words(data) if described else ""
    return " ".join(str(text or "").lower().split()).rstrip(".!")


def about_someone_else(kind: Kind, data: dict[str, Any], kinds: KindRegistry | None = None) -> bool:
    """An item the model says is about another person (its kind's subject field is not
    "self"): not kept for this one."""
    described = (kinds.by_item(kind) if kinds else None) or known(kind)
    return described is not None and described.about_someone_else(data)


# A request to forget, in the languages people most often write to the bot in: word stems, so
# "forget", "forgetting", "oublie", "oubliez", "vergiss", "vergessen" all match. Latin-script
# stems must start a word; CJK has no word breaks, so those match anywhere.
_FORGET_STEMS = (
    "forget|forgot|unlearn|unremember|delete|erase|remove|wipe|drop|scrap|discard|purge|"
    "clear|redact|get rid|"
    "oubli|effac|supprim|vergiss|vergess|lösch|losch|olvid|borra|elimin|esquec|esqueç|apag|"
    "dimentic|cancell|vergeet|verwijder|zapomn|usuń|забуд|забы|удали|удалять|стер|сотри|"
    "unut"
)
_FORGET = re.compile(
    rf"\b(?:{_FORGET_STEMS})"
    r"|\b(?:do not|don'?t|dont|stop|no need to|never) (?:remember|keep|store|save|need to know)"
    r"|忘れ|削除|忘记|忘掉|別記|别记|删除|刪除|잊어|잊으|삭제",
    re.IGNORECASE,
)


def asks_to_forget(texts: Iterable[str]) -> bool:
    """Does any of these messages ask for something to be forgotten or deleted?

    Learning uses it to tell a removal the person asked for (an erasure: final, no copy kept)
    from one the model made on its own (an outdated fact replaced, a duplicate merged: undoable,
    its before-state kept for Undo). trustcall's RemoveDoc carries no reason, so the words of
    the batch decide, and they decide for erasure when in doubt: a wrongly erased removal costs
    the person an Undo they cannot make, a wrongly kept one would keep words they asked to be
    forgotten. "I forgot my keys" therefore erases whatever the model removed alongside it.
    """
    # Typographic apostrophes (what phones, Slack and macOS type) read as the plain one.
    return any(_FORGET.search(text.replace("\u2019", "'").replace("\u2018", "'")) for text in texts)
