"""Discovery at 10,000 tools: cold build, warm build (cached embeddings) and search latency.

The catalog is Seal-Tools' 4,076 tools plus variants of them (suffixed ids and names, the
description with a variant clause) up to the target size, so texts stay realistic and distinct.
Run: ``python benchmarks/discovery_scale.py [--tools 10000] [--embedder minilm]``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from toolfoundry.discovery.bench import load_queries, load_tools
from toolfoundry.discovery.documents import ToolDocument
from toolfoundry.discovery.embedders import (
    DEFAULT_EMBEDDER,
    EMBEDDERS,
    CachedEmbedder,
    InMemoryEmbeddingCache,
    get_embedder,
)
from toolfoundry.discovery.index import HybridIndex

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "discovery"
_VARIANTS = ("for teams", "with caching", "for batch jobs", "via REST", "for mobile apps")


def synthetic_catalog(base: list[ToolDocument], size: int) -> list[ToolDocument]:
    tools = list(base)
    i = 0
    while len(tools) < size:
        doc = base[i % len(base)]
        n = i // len(base) + 1
        clause = _VARIANTS[(i + n) % len(_VARIANTS)]
        tools.append(
            doc.model_copy(
                update={
                    "id": f"{doc.id}_v{n}",
                    "name": f"{doc.name}_v{n}",
                    "description": f"{doc.description} ({clause}, variant {n})",
                }
            )
        )
        i += 1
    return tools[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA, help="the shared discovery sets")
    parser.add_argument("--tools", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--embedder", default=DEFAULT_EMBEDDER, choices=sorted(EMBEDDERS))
    args = parser.parse_args()
    seal = args.data / "sealtools"
    if not (seal / "tools.jsonl").exists():
        raise SystemExit(f"benchmark data not found under {seal}")
    tools = synthetic_catalog(load_tools(seal / "tools.jsonl"), args.tools)
    # Seal-Tools queries are long (median ~80 tokens), MetaTool's short (~12): the query
    # embedding dominates latency and grows with length, so both are reported.
    query_sets = {}
    for name in ("sealtools", "metatool"):
        path = args.data / name / "queries.jsonl"
        if path.exists():
            rows = load_queries(path)
            query_sets[name] = [q["query"] for q in rows[:: max(1, len(rows) // args.queries)]]

    cache = InMemoryEmbeddingCache()
    embedder = CachedEmbedder(get_embedder(args.embedder), cache)
    started = time.perf_counter()
    HybridIndex(embedder).add(tools)
    cold_s = time.perf_counter() - started

    started = time.perf_counter()
    index = HybridIndex(embedder)
    index.add(tools)
    warm_s = time.perf_counter() - started

    latency = {}
    for name, queries in query_sets.items():
        queries = queries[: args.queries]
        index.search(queries[0])  # first-call effects stay out of the figures
        total, embed = [], []
        for query in queries:
            t0 = time.perf_counter()
            index.search(query, k=10)
            t1 = time.perf_counter()
            embedder.embed_query([query])
            total.append((t1 - t0) * 1000.0)
            embed.append((time.perf_counter() - t1) * 1000.0)
        latency[name] = {
            "queries": len(queries),
            "p50": round(float(np.percentile(total, 50)), 2),
            "p95": round(float(np.percentile(total, 95)), 2),
            "embed_p50": round(float(np.percentile(embed, 50)), 2),
            "embed_p95": round(float(np.percentile(embed, 95)), 2),
        }

    result = {
        "tools": len(tools),
        "embedder": embedder.name,
        "build_cold_s": round(cold_s, 2),
        "build_warm_s": round(warm_s, 2),
        "latency_ms": latency,
    }
    print(json.dumps(result))
    table = Table(title=f"Discovery at {len(tools):,} tools")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("cold build (s)", str(result["build_cold_s"]))
    table.add_row("warm build, cached embeddings (s)", str(result["build_warm_s"]))
    for name, lat in latency.items():
        table.add_row(
            f"search p50 / p95 (ms), {name} queries",
            f"{lat['p50']} / {lat['p95']} (embedding {lat['embed_p50']} / {lat['embed_p95']})",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
