"""Retrieval benchmark over a tool set in the shared format (``tools.jsonl`` + ``queries.jsonl``).

Builds a throwaway index from the files, never the user's catalog.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from toolfoundry.discovery.documents import ToolDocument
from toolfoundry.discovery.embedders import (
    DEFAULT_EMBEDDER,
    DEFAULT_MULTILINGUAL,
    Embedder,
    get_embedder,
)
from toolfoundry.discovery.index import HybridIndex

__all__ = [
    "load_queries",
    "load_tools",
    "retrieval_metrics",
    "run_discovery_benchmark",
]

_TOOL_FIELDS = set(ToolDocument.model_fields)


def _read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_tools(path: str | Path) -> list[ToolDocument]:
    """Tools from a ``tools.jsonl``; keys outside :class:`ToolDocument` are ignored."""
    return [
        ToolDocument.model_validate({k: v for k, v in row.items() if k in _TOOL_FIELDS})
        for row in _read_jsonl(path)
    ]


def load_queries(path: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Queries (``query``, ``relevant``) from a ``queries.jsonl``.

    With ``limit``, an evenly spaced sample of that many: sets are often grouped by tool, so
    the first N would cover only a few tools.
    """
    rows = [r for r in _read_jsonl(path) if r.get("relevant")]
    if not limit or limit >= len(rows):
        return rows
    picks = np.linspace(0, len(rows), num=limit, endpoint=False).astype(int)
    return [rows[i] for i in picks]


def retrieval_metrics(ranked: Sequence[Sequence[str]], relevant: Sequence[Sequence[str]]) -> dict:
    """Recall@1/5/10, Hit@1 and NDCG@5 (binary gains), averaged over queries, in percent."""
    sums = dict.fromkeys(("recall@1", "recall@5", "recall@10", "hit@1", "ndcg@5"), 0.0)
    discounts = [1.0 / math.log2(i + 2) for i in range(5)]
    for found, gold in zip(ranked, relevant, strict=True):
        gold_set = set(gold)
        hits = [tool_id in gold_set for tool_id in found]
        for k in (1, 5, 10):
            sums[f"recall@{k}"] += sum(hits[:k]) / len(gold_set)
        sums["hit@1"] += float(bool(hits[:1]) and hits[0])
        dcg = sum(d for d, hit in zip(discounts, hits[:5], strict=False) if hit)
        ideal = sum(discounts[: min(5, len(gold_set))])
        sums["ndcg@5"] += dcg / ideal
    n = max(len(relevant), 1)
    return {key: round(100.0 * value / n, 2) for key, value in sums.items()}


def run_discovery_benchmark(
    tools_path: str | Path,
    queries_path: str | Path,
    k: int = 5,
    limit: int | None = None,
    embedder: Embedder | str = DEFAULT_EMBEDDER,
    multilingual: Embedder | str | None = DEFAULT_MULTILINGUAL,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Index the tools, run every query and report retrieval quality and per-query latency.

    ``on_progress(stage, done, total)`` is called while indexing and querying.
    """
    model = get_embedder(embedder) if isinstance(embedder, str) else embedder
    second = get_embedder(multilingual) if isinstance(multilingual, str) else multilingual
    if second is not None and second.name == model.name:
        second = None  # already multilingual
    tools = load_tools(tools_path)
    queries = load_queries(queries_path, limit)
    index = HybridIndex(model, multilingual=second)
    started = time.perf_counter()
    batch = 64
    for start in range(0, len(tools), batch):
        index.add(tools[start : start + batch])
        if on_progress:
            on_progress("index", min(start + batch, len(tools)), len(tools))
    build_s = time.perf_counter() - started
    depth = max(k, 10)
    ranked: list[list[str]] = []
    latencies: list[float] = []
    for i, row in enumerate(queries):
        t0 = time.perf_counter()
        hits = index.search(row["query"], k=depth)
        latencies.append((time.perf_counter() - t0) * 1000.0)
        ranked.append([h.id for h in hits])
        if on_progress and (i % 50 == 0 or i == len(queries) - 1):
            on_progress("query", i + 1, len(queries))
    result = retrieval_metrics(ranked, [row["relevant"] for row in queries])
    result["latency_ms"] = {
        "p50": round(float(np.percentile(latencies, 50)), 2) if latencies else 0.0,
        "p95": round(float(np.percentile(latencies, 95)), 2) if latencies else 0.0,
    }
    result.update(
        tools=len(tools),
        queries=len(queries),
        mode="hybrid" if model.dim else "lexical",
        index_build_s=round(build_s, 2),
        embedder=model.name,
        multilingual=second.name if second is not None else None,
    )
    return result
