"""Recall without embeddings in languages beyond ASCII: Greek (accents, spaces) and Japanese
(no spaces between words). The question names one old fact among newer ones; that fact must
be in the prompt the model receives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memory.agent.relevance import words
from memory.builtin_kinds import BUILTIN
from memory.engine import MemoryEngine
from memory.schemas import Provenance, StoredItem
from tests.conftest import unique
from tests.memory.helpers import dm, person, say
from tests.scripted_model import ScriptedChatModel

GREEK = [
    "Η γάτα μου λέγεται Μέλι.",
    "Δουλεύω σε ένα νοσοκομείο στην Πάτρα.",
    "Ο αδελφός μου ζει στη Θεσσαλονίκη.",
    "Μου αρέσει ο καφές χωρίς ζάχαρη.",
    "Παίζω κιθάρα τα Σάββατα.",
    "Το αυτοκίνητό μου είναι κόκκινο.",
    "Διαβάζω ιστορικά μυθιστορήματα.",
    "Έχω αλλεργία στα φιστίκια.",
    "Τρέχω κάθε πρωί στο πάρκο.",
    "Η μητέρα μου μαγειρεύει μουσακά.",
    "Σπούδασα χημεία στην Αθήνα.",
]
JAPANESE = [
    "私の猫の名前はミルです。",
    "東京の会社で働いています。",
    "兄は大阪に住んでいます。",
    "砂糖なしのコーヒーが好きです。",
    "土曜日にギターを弾きます。",
    "車は赤色です。",
    "歴史小説をよく読みます。",
    "ピーナッツのアレルギーがあります。",
    "毎朝公園で走ります。",
    "母は料理が上手です。",
    "大学で化学を勉強しました。",
]


def test_words_keep_every_script() -> None:
    assert words("café München Αθήνα 東京 naïve") == ["cafe", "munchen", "αθηνα", "東京", "naive"]


@pytest.mark.parametrize(
    ("facts", "question"),
    [(GREEK, "Πώς λένε τη γάτα μου;"), (JAPANESE, "私の猫の名前は何ですか？")],
    ids=["greek", "japanese"],
)
async def test_the_fact_a_question_names_is_recalled(
    engine: MemoryEngine, model: ScriptedChatModel, facts: list[str], question: str
) -> None:
    facts_kind = BUILTIN.get("facts")
    assert facts_kind is not None and len(facts) > facts_kind.recall_limit
    alice = person(unique("alice"))
    start = datetime.now(UTC) - timedelta(days=1)
    for n, text in enumerate(facts):  # the first is the oldest
        item = StoredItem(
            kind="fact",
            data={"content": text},
            provenance=Provenance(platform="test", conversation="c", audience="dm"),
        )
        item.updated_at = start + timedelta(minutes=n)
        await engine.repository.put(alice.key, "facts", f"f{n:02d}", item)

    await engine.reply(say(alice, dm(alice), question))

    memory = model.calls[-1].system.split("<memory>\n", 1)[1].split("\n</memory>", 1)[0]
    assert facts[0] in memory.splitlines()[0]
