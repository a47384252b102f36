"""HybridIndex: lexical + dense retrieval over tools, lifted by their toolkit and usage prior."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from pydantic import BaseModel

from toolfoundry.discovery import bilingual
from toolfoundry.discovery.documents import ToolDocument
from toolfoundry.discovery.embedders import Embedder, NullEmbedder
from toolfoundry.discovery.lexical import BM25Index
from toolfoundry.discovery.tokenize import has_cjk, split_identifier, tokenize

__all__ = ["HybridIndex", "ScoredTool", "Signals"]


class Signals(BaseModel):
    """Why a tool ranked where it did.

    ``lexical``, ``dense`` and ``toolkit`` are z-scores within this query (how many standard
    deviations above the catalog's mean the tool or its toolkit scored); ``prior`` is the recorded
    effectiveness, 0..1. ``dense`` is None in lexical-only mode, ``toolkit`` None for a tool
    outside any toolkit.
    """

    lexical: float
    dense: float | None
    toolkit: float | None
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


def _standardise(scores: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """z-scores over the live rows: puts BM25 and cosine on one scale whatever their ranges."""
    out = np.zeros(len(scores), dtype=np.float32)
    live = scores[alive]
    std = float(live.std()) if live.size else 0.0
    if std > 0.0:
        out[alive] = (live - live.mean()) / std
    return out


class _DenseSpace:
    """One embedder's vectors of every tool row and every toolkit's centroid."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.vectors = np.zeros((0, embedder.dim), dtype=np.float32)
        # The normalised mean of each tool's example requests (Tool2Vec), zero without any.
        self.examples = np.zeros((0, embedder.dim), dtype=np.float32)
        self.has_examples = np.zeros(0, dtype=bool)  # kept so searches need not scan `examples`
        self.kit_centroids = np.zeros((0, embedder.dim), dtype=np.float32)
        self._queries: dict[str, np.ndarray] = {}

    def embed(self, docs: Sequence[ToolDocument]) -> tuple[np.ndarray, np.ndarray]:
        """``docs``' text vectors and example-request means, not yet stored anywhere."""
        return self.embedder.embed([d.embedding_text() for d in docs]), self._example_means(docs)

    def put(self, rows: Sequence[int], embedded: tuple[np.ndarray, np.ndarray], size: int) -> None:
        self.vectors = _grow(self.vectors, size)
        self.examples = _grow(self.examples, size)
        self.has_examples = _grow(self.has_examples, size)
        if len(rows):
            self.vectors[list(rows)], self.examples[list(rows)] = embedded
            self.has_examples[list(rows)] = embedded[1].any(axis=1)

    def _example_means(self, docs: Sequence[ToolDocument]) -> np.ndarray:
        texts = [t for d in docs for t in d.example_texts()]
        means = np.zeros((len(docs), self.embedder.dim), dtype=np.float32)
        if not texts:
            return means
        vectors = self.embedder.embed(texts)
        start = 0
        for i, doc in enumerate(docs):
            n = len(doc.example_texts())
            if n:
                mean = vectors[start : start + n].sum(axis=0)
                means[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
            start += n
        return means

    def cosines(
        self, qv: np.ndarray, rows: Sequence[int] | slice, example_weight: float
    ) -> np.ndarray:
        """Each row's cosine to the query: to its text, blended with the cosine to its
        example requests (for rows that have some) by ``example_weight``."""
        own = self.vectors[rows] @ qv
        has = self.has_examples[rows]
        if example_weight <= 0 or not has.any():
            return own  # the common case costs one bool scan, not a second product
        taught = np.flatnonzero(has)
        blended = self.examples[rows][taught] @ qv
        own[taught] = (1 - example_weight) * own[taught] + example_weight * blended
        return own

    def put_kit(self, row: int, tool_rows: list[int], size: int) -> None:
        self.kit_centroids = _grow(self.kit_centroids, size)
        centroid = self.vectors[tool_rows].sum(axis=0)
        self.kit_centroids[row] = centroid / max(float(np.linalg.norm(centroid)), 1e-12)

    def query(self, text: str) -> np.ndarray:
        """The query's vector; a request is split into parts and each part searched again,
        so recent queries are kept rather than re-encoded."""
        vector = self._queries.get(text)
        if vector is None:
            if len(self._queries) >= 256:
                self._queries.pop(next(iter(self._queries)))
            vector = self._queries[text] = self.embedder.embed_query([text])[0]
        return vector


class HybridIndex:
    """An in-memory tool index, updated one tool at a time as the catalog changes.

    A tool's own relevance blends BM25 over all its text with the cosine of its embedding,
    both standardised per query. Its toolkit's relevance (the toolkit's name and all its tools'
    texts, and the centroid of their embeddings) is blended in with a weight that grows with the
    toolkit's size — a toolkit of one tool says nothing its tool does not — so a generic name
    such as ``search`` ranks by what its toolkit is about. Recorded effectiveness adds a small
    prior.

    Defaults were chosen on one half of MetaTool and Seal-Tools and checked on the other half.

    Requests in Chinese (any CJK character) are routed to a ``multilingual`` embedder, built
    lazily on the first such request or the first tool with CJK text, and the lexical half
    weighs only ``cross_script_lexical_weight`` for tools with no CJK text: words cannot match
    across scripts, so BM25 there is noise (measured: it took e5 from 59 to 44 R@5). Such a
    request is also searched in English words (``glossary``, CC-CEDICT glosses by default)
    and that score is blended in with ``gloss_weight`` for tools without CJK text (measured on
    the Chinese dev set: R@5 48 → 70 on MetaTool, 74 → 96 on Seal-Tools).
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        lexical_weight: float = 0.4,
        toolkit_weight: float = 0.1,
        prior_weight: float = 0.2,
        multilingual: Embedder | None = None,
        cross_script_lexical_weight: float = 0.1,
        glossary: Callable[[str], str] | None = None,
        gloss_weight: float = 0.5,
        example_weight: float = 0.5,
    ) -> None:
        self.embedder = embedder or NullEmbedder()
        self.lexical_weight = lexical_weight
        self.toolkit_weight = toolkit_weight
        self.prior_weight = prior_weight
        self.cross_script_lexical_weight = cross_script_lexical_weight
        # Chinese requests are also searched in English words (``bilingual.gloss``) when a
        # multilingual embedder is configured, i.e. when Chinese requests are expected.
        self.glossary = glossary or (bilingual.gloss if multilingual else None)
        self.gloss_weight = gloss_weight
        self.example_weight = example_weight
        self._dense = _DenseSpace(self.embedder)
        # The multilingual space exists only once needed (None until then).
        self._multilingual = multilingual if multilingual and multilingual.dim else None
        self._multi: _DenseSpace | None = None
        self._docs: dict[str, ToolDocument] = {}
        self._tools = BM25Index()
        self._ids: list[str | None] = []
        self._alive = np.zeros(0, dtype=bool)
        self._cjk = np.zeros(0, dtype=bool)  # the tool's text has CJK characters
        self._prior = np.zeros(0, dtype=np.float32)
        self._tool_kit = np.zeros(0, dtype=np.int64)  # toolkit row of each tool row, -1 if none
        # A toolkit is indexed as one document: its name plus all its tools' terms.
        self._kits = BM25Index()
        self._kit_members: dict[str, set[str]] = {}
        self._kit_alive = np.zeros(0, dtype=bool)
        self._kit_sizes = np.zeros(0, dtype=np.float32)

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
        # Embed first: if the embedder fails, the index is left as it was.
        embedded = [space.embed(docs) for space in self._spaces()]
        touched = {kit for d in docs if d.id in self._docs and (kit := self._remove_one(d.id))}
        rows = [self._add_one(doc) for doc in docs]
        for space, vectors in zip(self._spaces(), embedded, strict=True):
            space.put(rows, vectors, self._tools.capacity)
        touched |= {d.toolkit for d in docs if d.toolkit}
        for kit in touched:
            self._reindex_kit(kit)
        if self._multi is None and any(has_cjk(d.embedding_text()) for d in docs):
            self._start_multilingual()

    def _spaces(self) -> list[_DenseSpace]:
        return [s for s in (self._dense, self._multi) if s is not None]

    def _start_multilingual(self) -> None:
        """Embed every tool with the multilingual embedder (first CJK request or tool)."""
        if self._multilingual is None or self._multi is not None:
            return
        space = _DenseSpace(self._multilingual)
        rows = [self._tools.row(i) for i in self._docs]
        space.put(rows, space.embed(list(self._docs.values())), self._tools.capacity)
        self._multi = space
        for kit in list(self._kit_members):
            self._reindex_kit(kit)

    def dense_similarity(self, query: str, tool_ids: Sequence[str]) -> tuple[str, list[float]]:
        """Cosine of ``query`` to each tool in the space a search for it would use, with that
        embedder's name (coverage reads cosines on the scale of the model that made them)."""
        space = self._space(query)
        if not space.embedder.dim:
            return space.embedder.name, [0.0] * len(tool_ids)
        qv = space.query(query)
        rows = [self._tools.row(i) for i in tool_ids]
        cosines = space.cosines(qv, rows, self.example_weight)
        return space.embedder.name, [float(v) for v in cosines]

    def _space(self, query: str) -> _DenseSpace:
        if has_cjk(query) and self._multilingual is not None:
            self._start_multilingual()
            assert self._multi is not None
            return self._multi
        return self._dense

    def update(self, doc: ToolDocument) -> None:
        self.add([doc])

    def remove(self, ids: Iterable[str]) -> None:
        """Drop tools by id; unknown ids are ignored."""
        touched = {kit for i in ids if i in self._docs and (kit := self._remove_one(i))}
        for kit in touched:
            self._reindex_kit(kit)

    def _add_one(self, doc: ToolDocument) -> int:
        # The name counts twice: it is the tool's most specific text.
        terms = tokenize(doc.lexical_text()) + tokenize(doc.name_text())
        row = self._tools.add(doc.id, terms)
        size = self._tools.capacity
        self._alive = _grow(self._alive, size)
        self._cjk = _grow(self._cjk, size)
        self._prior = _grow(self._prior, size)
        self._tool_kit = _grow(self._tool_kit, size)
        self._ids.extend([None] * (size - len(self._ids)))
        self._ids[row] = doc.id
        self._alive[row] = True
        self._cjk[row] = has_cjk(doc.lexical_text())
        self._prior[row] = doc.effectiveness
        self._tool_kit[row] = -1
        self._docs[doc.id] = doc
        if doc.toolkit:
            self._kit_members.setdefault(doc.toolkit, set()).add(doc.id)
        return row

    def _remove_one(self, tool_id: str) -> str | None:
        doc = self._docs.pop(tool_id)
        row = self._tools.remove(tool_id)
        self._ids[row] = None  # type: ignore[index]
        self._alive[row] = False
        if doc.toolkit:
            self._kit_members[doc.toolkit].discard(tool_id)
        return doc.toolkit

    def _reindex_kit(self, kit: str) -> None:
        members = self._kit_members.get(kit)
        if not members:
            self._kit_members.pop(kit, None)
            row = self._kits.remove(kit)
            if row is not None:
                self._kit_alive[row] = False
            return
        terms: Counter[str] = Counter(tokenize(split_identifier(kit)))
        for tool_id in members:
            terms.update(self._tools.terms(tool_id))
        row = self._kits.add(kit, terms.elements())
        size = self._kits.capacity
        self._kit_alive = _grow(self._kit_alive, size)
        self._kit_sizes = _grow(self._kit_sizes, size)
        tool_rows = [self._tools.row(t) for t in members]
        self._kit_alive[row] = True
        self._kit_sizes[row] = len(members)
        for space in (self._dense, self._multi):
            if space is not None:
                space.put_kit(row, tool_rows, size)
        self._tool_kit[tool_rows] = row

    def _scores(
        self, query: str, alive: np.ndarray, kit_alive: np.ndarray, size: int, kit_size: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
        """Each tool row's total score for ``query`` and the signals it is made of: lexical,
        dense (None without an embedder), toolkit, in-a-toolkit and prior."""
        kit_rows = self._tool_kit[:size]
        terms = tokenize(query)
        lexical = _standardise(self._tools.scores(terms), alive)
        kit_score = _standardise(self._kits.scores(terms), kit_alive)
        dense: np.ndarray | None = None
        own = lexical
        space = self._space(query)
        if space.embedder.dim:
            qv = space.query(query)
            dense = _standardise(space.cosines(qv, slice(0, size), self.example_weight), alive)
            kit_dense = _standardise(space.kit_centroids[:kit_size] @ qv, kit_alive)
            w: float | np.ndarray = self.lexical_weight
            if has_cjk(query):
                w = np.where(self._cjk[:size], w, self.cross_script_lexical_weight)
            own = w * lexical + (1.0 - w) * dense
            w = float(np.mean(w)) if isinstance(w, np.ndarray) else w
            kit_score = w * kit_score + (1.0 - w) * kit_dense

        in_kit = kit_rows >= 0
        kit_of_tool = np.where(in_kit, kit_score[np.maximum(kit_rows, 0)] if kit_size else 0.0, 0.0)
        sizes = np.where(in_kit, self._kit_sizes[np.maximum(kit_rows, 0)] if kit_size else 1.0, 1.0)
        kit_weight = self.toolkit_weight * (1.0 - 1.0 / np.maximum(sizes, 1.0))
        prior = self._prior[:size]
        total = (1.0 - kit_weight) * own + kit_weight * kit_of_tool + self.prior_weight * prior
        return total, lexical, dense, kit_of_tool, in_kit, prior

    def search(
        self, query: str, k: int = 10, toolkits: Sequence[str] | None = None
    ) -> list[ScoredTool]:
        """The ``k`` best tools for ``query``, optionally only from the named ``toolkits``."""
        if not self._docs or k <= 0:
            return []
        size, kit_size = self._tools.capacity, self._kits.capacity
        alive = self._alive[:size].copy()
        kit_rows = self._tool_kit[:size]
        if toolkits is not None:
            wanted = [self._kits.row(t) for t in toolkits if t in self._kits]
            alive &= np.isin(kit_rows, wanted)
            if not alive.any():
                return []
        kit_alive = self._kit_alive[:kit_size]
        total, lexical, dense, kit_of_tool, in_kit, prior = self._scores(
            query, alive, kit_alive, size, kit_size
        )
        if has_cjk(query) and self.glossary is not None and self.gloss_weight > 0:
            # The request in English words, searched as an English request is; fused for the
            # tools whose text has no CJK (for the others Chinese words match directly).
            english = self.glossary(query)
            if english and not has_cjk(english):
                glossed = self._scores(english, alive, kit_alive, size, kit_size)[0]
                w = np.where(self._cjk[:size], 0.0, self.gloss_weight)
                total = (1.0 - w) * total + w * glossed
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
                toolkit=float(kit_of_tool[row]) if in_kit[row] else None,
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
