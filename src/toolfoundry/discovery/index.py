"""HybridIndex: lexical + dense retrieval over tools, lifted by their toolkit and usage prior."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from pydantic import BaseModel

from toolfoundry.discovery.documents import ToolDocument
from toolfoundry.discovery.embedders import Embedder, NullEmbedder
from toolfoundry.discovery.lexical import BM25Index
from toolfoundry.discovery.tokenize import split_identifier, tokenize

__all__ = ["HybridIndex", "ScoredTool", "Signals"]


class Signals(BaseModel):
    """Each signal normalised to 0..1 for this query, so a caller can explain a rank."""

    lexical: float
    dense: float | None
    toolkit: float
    prior: float


class ScoredTool(BaseModel):
    id: str
    name: str
    toolkit: str | None
    score: float
    signals: Signals


def _grow(array: np.ndarray, size: int) -> np.ndarray:
    if size <= len(array):
        return array
    grown = np.zeros((max(size, 2 * len(array), 64), *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def _scale(scores: np.ndarray, alive: np.ndarray, fusion: str) -> np.ndarray:
    """Map one signal onto 0..1 over the live rows."""
    out = np.zeros_like(scores)
    live = scores[alive]
    if live.size == 0:
        return out
    if fusion == "rrf":
        order = np.argsort(-live, kind="stable")
        ranks = np.empty(live.size, dtype=np.float32)
        ranks[order] = np.arange(live.size, dtype=np.float32)
        out[alive] = 61.0 / (61.0 + ranks)
        return out
    if fusion == "z":
        std = float(live.std())
        if std > 0:
            out[alive] = (live - live.mean()) / std
        return out
    if fusion == "rrf10":
        order = np.argsort(-live, kind="stable")
        ranks = np.empty(live.size, dtype=np.float32)
        ranks[order] = np.arange(live.size, dtype=np.float32)
        out[alive] = np.where(live > 0, 10.0 / (10.0 + ranks), 0.0)
        return out
    low, high = float(live.min()), float(live.max())
    if high > low:
        out[alive] = (live - low) / (high - low)
    return out


class HybridIndex:
    """An in-memory tool index, updated one tool at a time as the catalog changes.

    The score of a tool blends its own relevance (BM25 over all its text, cosine of embeddings)
    with the relevance of its toolkit (the toolkit's name and all its tools' texts), so a generic
    tool name such as ``search`` ranks by what its toolkit is about. The recorded effectiveness of
    a tool adds a small prior.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        lexical_weight: float = 0.5,
        toolkit_weight: float = 0.3,
        prior_weight: float = 0.05,
        fusion: str = "minmax",
    ) -> None:
        self.embedder = embedder or NullEmbedder()
        self.lexical_weight = lexical_weight
        self.toolkit_weight = toolkit_weight
        self.prior_weight = prior_weight
        self.fusion = fusion
        dim = self.embedder.dim
        self._docs: dict[str, ToolDocument] = {}
        self._tools = BM25Index()
        self._ids: list[str | None] = []
        self._alive = np.zeros(0, dtype=bool)
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        self._prior = np.zeros(0, dtype=np.float32)
        self._tool_kit = np.zeros(0, dtype=np.int64)  # toolkit row of each tool row, -1 if none
        # A toolkit is indexed as one document: its name plus all its tools' terms.
        self._kits = BM25Index()
        self._kit_members: dict[str, set[str]] = {}
        self._kit_sums = np.zeros((0, dim), dtype=np.float32)

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, tool_id: str) -> bool:
        return tool_id in self._docs

    def get(self, tool_id: str) -> ToolDocument | None:
        return self._docs.get(tool_id)

    @property
    def toolkits(self) -> list[str]:
        return sorted(self._kit_members)

    def add(self, docs: Iterable[ToolDocument]) -> None:
        """Index ``docs``; a document whose id is already indexed replaces the old one."""
        docs = list({d.id: d for d in docs}.values())
        if not docs:
            return
        for doc in docs:
            if doc.id in self._docs:
                self._remove_one(doc.id)
        vectors = self.embedder.embed([d.embedding_text() for d in docs])
        touched: set[str] = set()
        for doc, vector in zip(docs, vectors, strict=True):
            self._add_one(doc, vector)
            if doc.toolkit:
                touched.add(doc.toolkit)
        for kit in touched:
            self._reindex_kit(kit)

    def update(self, doc: ToolDocument) -> None:
        self.add([doc])

    def remove(self, ids: Iterable[str]) -> None:
        """Drop tools by id; unknown ids are ignored."""
        touched = {kit for i in ids if i in self._docs and (kit := self._remove_one(i))}
        for kit in touched:
            self._reindex_kit(kit)

    def _add_one(self, doc: ToolDocument, vector: np.ndarray) -> None:
        # The name counts twice: it is the tool's most specific text.
        terms = tokenize(doc.lexical_text()) + tokenize(doc.name_text())
        row = self._tools.add(doc.id, terms)
        size = self._tools.capacity
        self._alive = _grow(self._alive, size)
        self._vectors = _grow(self._vectors, size)
        self._prior = _grow(self._prior, size)
        self._tool_kit = _grow(self._tool_kit, size)
        while len(self._ids) < size:
            self._ids.append(None)
        self._ids[row] = doc.id
        self._alive[row] = True
        self._vectors[row] = vector
        self._prior[row] = doc.effectiveness
        self._tool_kit[row] = -1
        self._docs[doc.id] = doc
        if doc.toolkit:
            self._kit_members.setdefault(doc.toolkit, set()).add(doc.id)

    def _remove_one(self, tool_id: str) -> str | None:
        doc = self._docs.pop(tool_id)
        row = self._tools.remove(tool_id)
        assert row is not None
        self._ids[row] = None
        self._alive[row] = False
        if doc.toolkit:
            self._kit_members[doc.toolkit].discard(tool_id)
        return doc.toolkit

    def _reindex_kit(self, kit: str) -> None:
        members = self._kit_members.get(kit)
        if not members:
            self._kit_members.pop(kit, None)
            self._kits.remove(kit)
            return
        terms: Counter[str] = Counter(tokenize(split_identifier(kit)))
        for tool_id in members:
            terms.update(self._tools.terms(tool_id))
        kit_row = self._kits.add(kit, terms.elements())
        self._kit_sums = _grow(self._kit_sums, self._kits.capacity)
        rows = [self._tools.row(t) for t in members]
        self._kit_sums[kit_row] = self._vectors[rows].sum(axis=0)
        self._tool_kit[rows] = kit_row

    def search(
        self, query: str, k: int = 10, toolkits: Sequence[str] | None = None
    ) -> list[ScoredTool]:
        """The ``k`` best tools for ``query``, optionally only from the named ``toolkits``."""
        if not self._docs or k <= 0:
            return []
        size = self._tools.capacity
        alive = self._alive[:size].copy()
        if toolkits is not None:
            wanted = {self._kits.row(t) for t in toolkits if t in self._kits}
            alive &= np.isin(self._tool_kit[:size], list(wanted))
            if not alive.any():
                return []
        terms = tokenize(query)
        lexical = _scale(self._tools.scores(terms), alive, self.fusion)
        kit_size = self._kits.capacity
        kit_alive = np.array([i is not None for i in self._kit_alive_ids()], dtype=bool)
        kit_lexical = _scale(self._kits.scores(terms), kit_alive, self.fusion)
        dense: np.ndarray | None = None
        if self.embedder.dim:
            qv = self.embedder.embed_query([query])[0]
            dense = _scale(self._vectors[:size] @ qv, alive, self.fusion)
            sums = self._kit_sums[:kit_size]
            centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
            kit_dense = _scale(centroids @ qv, kit_alive, self.fusion)
            w = self.lexical_weight
            own = w * lexical + (1.0 - w) * dense
            kit = w * kit_lexical + (1.0 - w) * kit_dense
        else:
            own, kit = lexical, kit_lexical
        kit_rows = self._tool_kit[:size]
        kit_score = np.where(kit_rows >= 0, kit[np.maximum(kit_rows, 0)] if kit.size else 0, own)
        t = self.toolkit_weight
        prior = self._prior[:size]
        total = (1.0 - t) * own + t * kit_score + self.prior_weight * prior
        total[~alive] = -np.inf
        k = min(k, int(alive.sum()))
        top = np.argpartition(-total, k - 1)[:k]
        top = top[np.argsort(-total[top], kind="stable")]
        results = []
        for row in top:
            doc = self._docs[self._ids[row]]  # type: ignore[index]
            signals = Signals(
                lexical=float(lexical[row]),
                dense=None if dense is None else float(dense[row]),
                toolkit=float(kit_score[row]),
                prior=float(prior[row]),
            )
            results.append(
                ScoredTool(
                    id=doc.id,
                    name=doc.name,
                    toolkit=doc.toolkit,
                    score=float(total[row]),
                    signals=signals,
                )
            )
        return results

    def _kit_alive_ids(self) -> list[str | None]:
        ids: list[str | None] = [None] * self._kits.capacity
        for kit in self._kit_members:
            ids[self._kits.row(kit)] = kit
        return ids
