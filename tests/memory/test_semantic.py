"""With an embeddings model, recall ranks by meaning, where shared words would not find it."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from bot.storage import Storage
from memory.agent.semantic import SemanticIndex
from tests.conftest import MANUAL, engine_on, unique
from tests.memory.helpers import dm, person, say
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel

# Each concept is one axis; words of one concept share it (a crude but real embedding).
CONCEPTS = {
    "insects": {"bees", "hive", "apiary", "honey", "beekeeping", "wasps"},
    "sport": {"ski", "skiing", "slopes", "snowboard"},
    "food": {"cook", "cooking", "recipes", "pasta"},
}


class ConceptEmbeddings(Embeddings):
    def _vector(self, text: str) -> list[float]:
        words = {w.strip(".,!?").lower() for w in text.split()}
        return [float(len(words & vocabulary)) for vocabulary in CONCEPTS.values()] + [0.01]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


async def test_recall_finds_the_memory_that_means_the_same(storage: Storage) -> None:
    model = ScriptedChatModel(script=memory_script)
    engine = engine_on(storage, model, config=MANUAL, semantic=SemanticIndex(ConceptEmbeddings()))
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "Remember that I keep an apiary behind the house"))
    for n in range(12):
        await engine.reply(say(alice, dm(alice), f"Remember that I visited town number {n}"))
    await engine.learn_now(alice.key)
    stored = (await engine.repository.load(alice.key)).facts
    assert all(item.embedding for item in stored.values())

    reply = await engine.reply(say(alice, dm(alice, "two"), "how is the beekeeping going?"))

    # Eight facts fit in the prompt; the apiary shares no word with the question yet comes first.
    remembered = reply.text.split("What I remember:\n", 1)[1].splitlines()
    assert remembered[0].startswith("- I keep an apiary behind the house [said ")
    await engine.scheduler.close()
