"""Gap-detection benchmark: does discovery say "nothing fits" exactly when nothing does?

Over a tool set in the shared format where some tools were left out, a query *should* get a
capability gap exactly when one of its ``relevant`` ids is not among the tools. The report:
gap precision, recall and F1; the false-gap rate on answerable queries; and how often a flagged
gap names the missing part — a term of the gap's ``technical_requirements`` (the words judged
uncovered) appears among the missing tool's terms: the words of its id, and of its name and
description when the query row carries them (key ``left_out``: ``[{id, name, description}]``,
written by ``benchmarks/make_gap_splits.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from toolfoundry.core.models import Tool, ToolKind
from toolfoundry.discovery import coverage
from toolfoundry.discovery.bench import load_queries, load_tools
from toolfoundry.discovery.documents import ToolDocument
from toolfoundry.discovery.embedders import (
    DEFAULT_EMBEDDER,
    DEFAULT_MULTILINGUAL,
    Embedder,
    get_embedder,
)
from toolfoundry.discovery.retriever import Retriever
from toolfoundry.discovery.tokenize import split_identifier

__all__ = ["gap_metrics", "retriever_for", "run_gap_benchmark"]


def _tool(doc: ToolDocument) -> Tool:
    return Tool(
        id=doc.id,
        name=doc.name,
        description=doc.description,
        toolkit=doc.toolkit or "",
        kind=ToolKind.FUNCTION,
        input_schema=doc.parameters or {"type": "object", "properties": {}},
        version="1",
    )


def retriever_for(
    docs: list[ToolDocument],
    embedder: Embedder | str = DEFAULT_EMBEDDER,
    multilingual: Embedder | str | None = DEFAULT_MULTILINGUAL,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> Retriever:
    """A retriever over tools read from files (the benchmarks' stand-in for the catalog)."""
    model = get_embedder(embedder) if isinstance(embedder, str) else embedder
    second = get_embedder(multilingual) if isinstance(multilingual, str) else multilingual
    if second is not None and second.name == model.name:
        second = None
    retriever = Retriever(model, multilingual=second)
    batch = 64
    for start in range(0, len(docs), batch):
        chunk = docs[start : start + batch]
        retriever.add([_tool(d) for d in chunk], chunk)
        if on_progress:
            on_progress("index", min(start + batch, len(docs)), len(docs))
    return retriever


def _missing_terms(tool_id: str, left_out: dict[str, dict[str, Any]]) -> set[str]:
    row = left_out.get(tool_id, {})
    texts = [split_identifier(tool_id), split_identifier(str(row.get("name", "")))]
    texts.append(str(row.get("description", "")))
    return set(coverage.concepts(" ".join(texts)))


def gap_metrics(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Precision, recall, F1, false-gap rate and naming share (percent) from per-query records
    with ``should`` (a relevant tool is missing), ``flagged`` and ``names_missing``."""
    tp = sum(r["should"] and r["flagged"] for r in records)
    fp = sum(r["flagged"] and not r["should"] for r in records)
    fn = sum(r["should"] and not r["flagged"] for r in records)
    answerable = sum(not r["should"] for r in records)
    named = sum(r["should"] and r["flagged"] and r["names_missing"] for r in records)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def pct(x: float) -> float:
        return round(100.0 * x, 2)

    return {
        "gap_precision": pct(precision),
        "gap_recall": pct(recall),
        "gap_f1": pct(f1),
        "false_gap_rate": pct(fp / answerable if answerable else 0.0),
        "gap_names_missing": pct(named / tp if tp else 0.0),
        "queries": len(records),
        "should_gap": tp + fn,
        "answerable": answerable,
        "flagged": tp + fp,
    }


def run_gap_benchmark(
    tools_path: str | Path,
    queries_path: str | Path,
    limit: int | None = None,
    embedder: Embedder | str = DEFAULT_EMBEDDER,
    multilingual: Embedder | str | None = DEFAULT_MULTILINGUAL,
    on_progress: Callable[[str, int, int], None] | None = None,
    min_absence: float = 0.0,
) -> dict[str, Any]:
    """Run retrieval-only discovery on every query and score its capability gaps;
    ``min_absence`` is the gap model's cut (0: coverage alone decides, the default)."""
    docs = load_tools(tools_path)
    queries = load_queries(queries_path, limit)
    retriever = retriever_for(docs, embedder, multilingual, on_progress)
    retriever.min_absence = min_absence
    present = {d.id for d in docs}
    records = []
    latencies = []
    for i, row in enumerate(queries):
        missing = [r for r in row["relevant"] if r not in present]
        t0 = time.perf_counter()
        result = retriever.retrieve(row["query"])
        latencies.append((time.perf_counter() - t0) * 1000.0)
        left_out = {t["id"]: t for t in row.get("left_out") or [] if isinstance(t, dict)}
        flagged_terms = {
            term
            for gap in result.gaps
            for word in gap.technical_requirements
            for term in coverage.concepts(word)
        }
        names = any(flagged_terms & _missing_terms(m, left_out) for m in missing)
        records.append(
            {"should": bool(missing), "flagged": bool(result.gaps), "names_missing": names}
        )
        if on_progress and (i % 25 == 0 or i == len(queries) - 1):
            on_progress("query", i + 1, len(queries))
    report = gap_metrics(records)
    report["latency_ms"] = {
        "p50": round(float(np.percentile(latencies, 50)), 2) if latencies else 0.0,
        "p95": round(float(np.percentile(latencies, 95)), 2) if latencies else 0.0,
    }
    report.update(tools=len(docs), gap_threshold=retriever.gap_threshold, min_absence=min_absence)
    return report
