"""Ranking by meaning when an embeddings model is configured: in-process cosine over one user's
items (the machine's PostgreSQL has no pgvector, and one user's items are few)."""

from __future__ import annotations

import numpy as np
from langchain_core.embeddings import Embeddings

from memory.schemas import StoredItem


class SemanticIndex:
    """Embeds memory items and scores them against a query, with any LangChain Embeddings."""

    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order (length = the model's dimensions), as plain floats
        so they serialize; [] for no texts, without calling the model. Errors of the
        embeddings provider propagate."""
        if not texts:
            return []
        vectors = await self.embeddings.aembed_documents(texts)
        return [[float(x) for x in vector] for vector in vectors]

    async def similarity(self, query: str, items: dict[str, StoredItem]) -> dict[str, float]:
        """Cosine similarity (-1..1) of the query to every item that has a vector, by item
        key; items without one are left out. {} for a blank query or no vectors, without
        calling the model. The query's vector must have the items' dimensions (ValueError
        from numpy otherwise, e.g. after the embeddings model was changed)."""
        keyed = [(k, v.embedding) for k, v in items.items() if v.embedding]
        if not keyed or not query.strip():
            return {}
        matrix = np.asarray([vector for _, vector in keyed], dtype=np.float32)
        probe = np.asarray(await self.embeddings.aembed_query(query), dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(probe) or 1.0)
        scores = matrix @ probe / np.where(norms == 0, 1.0, norms)
        return {key: float(score) for (key, _), score in zip(keyed, scores, strict=True)}
