"""Retrieval-only discovery over an in-memory set of tools: the hybrid index, the coverage
evidence of each part of a request, and the result. The service keeps it in step with the
catalog; the benchmarks build one from files."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

import numpy as np

from toolfoundry.core.models import Tool, Toolkit
from toolfoundry.discovery import analysis, coverage, gap_model
from toolfoundry.discovery.documents import ToolDocument
from toolfoundry.discovery.embedders import Embedder
from toolfoundry.discovery.index import HybridIndex, ScoredTool
from toolfoundry.discovery.results import DiscoveryResult
from toolfoundry.discovery.retrieval_reasoner import PartEvidence, reason

__all__ = ["Retriever"]

_PART_DEPTH = 5  # candidates judged for coverage per part of a request


class Retriever:
    def __init__(
        self,
        embedder: Embedder,
        *,
        multilingual: Embedder | None = None,
        gap_threshold: float = coverage.GAP_THRESHOLD,
        min_absence: float = gap_model.DEFAULT_MIN_ABSENCE,
    ) -> None:
        self.index = HybridIndex(embedder, multilingual=multilingual)
        self.gap_threshold = gap_threshold
        self.min_absence = min_absence
        self.tools: dict[str, Tool] = {}
        self.toolkits: dict[str, Toolkit] = {}
        self._terms: dict[str, set[str]] = {}
        self._term_stats = coverage.TermStats()

    def add(self, tools: Sequence[Tool], docs: Sequence[ToolDocument]) -> None:
        self.index.add(docs)
        for tool, doc in zip(tools, docs, strict=True):
            self._forget_terms(tool.id)
            self.tools[tool.id] = tool
            # Coverage judges what the tool says it does (and the requests its author says it
            # serves): learned requests may hold words of other tools of the same run, and must
            # not hide a capability gap.
            self._terms[tool.id] = coverage.tool_terms([doc.lexical_text(learned=False)])
            self._term_stats.add(self._terms[tool.id])

    def remove(self, tool_ids: Sequence[str]) -> None:
        self.index.remove(tool_ids)
        for tool_id in tool_ids:
            self.tools.pop(tool_id, None)
            self._forget_terms(tool_id)

    def _forget_terms(self, tool_id: str) -> None:
        if (terms := self._terms.pop(tool_id, None)) is not None:
            self._term_stats.remove(terms)

    def retrieve(
        self, query: str, top_k: int = 5, toolkits: list[str] | None = None
    ) -> DiscoveryResult:
        subtasks = analysis.split_subtasks(query)
        whole = self.index.search(query, max(top_k, 10), toolkits=toolkits)
        data = analysis.argument_terms(query)
        parts = [self._evidence(part, toolkits, data) for part in subtasks]
        absence = self.absence(whole, parts)
        self._credit_plan_terms(parts)
        return reason(
            query,
            parts,
            whole,
            self.tools,
            self.toolkits,
            top_k=top_k,
            gap_threshold=self.gap_threshold,
            absence=absence,
            min_absence=self.min_absence,
        )

    def absence(self, whole: list[ScoredTool], parts: list[PartEvidence]) -> float | None:
        """The gap model's probability that a tool the request needs is missing; None when
        the request was embedded by another model than the one the model was fitted for."""
        if not whole or not parts or any(p.embedder != gap_model.FITTED_EMBEDDER for p in parts):
            return None
        return gap_model.absence_probability(self.absence_features(whole, parts))

    @staticmethod
    def absence_features(whole: list[ScoredTool], parts: list[PartEvidence]) -> np.ndarray:
        return gap_model.features(
            [h.score for h in whole],
            whole[0].signals.dense or 0.0 if whole else 0.0,
            [
                gap_model.GapEvidence(
                    scores=[h.score for h in p.hits],
                    cosines=p.cosines,
                    lexical=max((float(f[1]) for f in p.features.values()), default=0.0),
                    coverage=max(p.coverage.values(), default=0.0),
                )
                for p in parts
            ],
        )

    def _credit_plan_terms(self, parts: list[PartEvidence]) -> None:
        """A part counts as covered when any tool of the result covers it: a concept of one
        part that another part's tool names is not missing from the plan ("read a CSV, then
        correlate two columns": the reader handles the columns)."""
        if len(parts) < 2:
            return
        best = [p.best[0] for p in parts]
        plan_terms = set().union(*(self._terms.get(b, set()) for b in best if b))
        for i, part in enumerate(parts):
            if best[i] is None:
                continue
            lexical = coverage.lexical_coverage(
                coverage.concepts(part.text), plan_terms, self._term_stats
            )
            part.coverage[best[i]] = coverage.combine(lexical, part.coverage[best[i]])
            part.uncovered_terms = [t for t in part.uncovered_terms if t not in plan_terms]

    def evidence(self, query: str, toolkits: list[str] | None = None) -> list[PartEvidence]:
        """Each part of ``query`` with its candidates and their coverage features."""
        data = analysis.argument_terms(query)
        return [self._evidence(part, toolkits, data) for part in analysis.split_subtasks(query)]

    def _evidence(
        self, part: str, toolkits: list[str] | None, data: AbstractSet[str] = frozenset()
    ) -> PartEvidence:
        """``data``: terms the request supplies as data, judged as arguments, not concepts."""
        hits = self.index.search(part, _PART_DEPTH, toolkits=toolkits)
        terms = [t for t in coverage.concepts(part) if t not in data]
        model, cosines = self.index.dense_similarity(part, [h.id for h in hits])
        scores: dict[str, float] = {}
        feats: dict[str, np.ndarray] = {}
        for rank, (hit, cosine) in enumerate(zip(hits, cosines, strict=True)):
            lexical = coverage.lexical_coverage(
                terms, self._terms.get(hit.id, set()), self._term_stats
            )
            dense = None
            if hit.signals.dense is not None:
                dense = coverage.dense_coverage(
                    cosine,
                    model,
                    cross_lingual=lexical is None
                    or (lexical == 0 and any(map(coverage.is_cjk, terms))),
                )
            others = [h.score for j, h in enumerate(hits) if j != rank]
            margin = hit.score - max(others) if others else 0.0
            doc = self.index.get(hit.id)
            name_terms = set(coverage.concepts(doc.name_text())) if doc else set()
            name = len(name_terms & set(terms)) / len(name_terms) if name_terms else 0.0
            feats[hit.id] = coverage.features(lexical, dense, hit.signals, hit.score, margin, name)
            scores[hit.id] = coverage.calibrated(feats[hit.id])
        evidence = PartEvidence(
            text=part,
            hits=hits,
            coverage=scores,
            uncovered_terms=[],
            threshold=self.gap_threshold,
            features=feats,
            cosines=list(cosines),
            embedder=model,
        )
        best_terms = self._terms.get(evidence.best[0] or "", set())
        evidence.uncovered_terms = [t for t in terms if t not in best_terms]
        return evidence
