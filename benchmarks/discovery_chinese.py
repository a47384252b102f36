"""Discovery on the Chinese dev set (``benchmarks/data/discovery_zh``): Chinese requests over the
English tool texts of MetaTool and Seal-Tools, beside the same requests in English.

    python benchmarks/discovery_chinese.py [--data ../shared/benchmarks/discovery] [--sets metatool]
        [--cross-lexical 0.1]

Per set: R@5 / Hit@1 of the Chinese queries (routed: the multilingual embedder for CJK requests)
and of their English originals over the same index, the first Chinese request's latency (it
loads the multilingual model and embeds the catalog) and p95 of the rest.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from toolfoundry.discovery.bench import load_queries, load_tools, retrieval_metrics
from toolfoundry.discovery.embedders import get_embedder
from toolfoundry.discovery.index import HybridIndex

ZH = Path(__file__).parent / "data" / "discovery_zh"


def run(name: str, data: Path, cross_lexical: float) -> dict:
    tools = load_tools(data / name / "tools.jsonl")
    rows = load_queries(ZH / f"{name}.queries.jsonl")
    index = HybridIndex(
        get_embedder("minilm"),
        multilingual=get_embedder("e5"),
        cross_script_lexical_weight=cross_lexical,
    )
    for start in range(0, len(tools), 64):
        index.add(tools[start : start + 64])
    report: dict = {"tools": len(tools), "queries": len(rows)}
    for lang, key in (("zh", "query"), ("en", "english")):
        ranked, latencies = [], []
        for row in rows:
            t0 = time.perf_counter()
            ranked.append([h.id for h in index.search(row[key], k=10)])
            latencies.append((time.perf_counter() - t0) * 1000.0)
        metrics = retrieval_metrics(ranked, [r["relevant"] for r in rows])
        report[lang] = {
            "R@5": metrics["recall@5"],
            "Hit@1": metrics["hit@1"],
            "first_ms": round(latencies[0], 1),
            "p95_rest_ms": round(float(np.percentile(latencies[1:], 95)), 1),
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("/work/shared/benchmarks/discovery"))
    parser.add_argument("--sets", nargs="+", default=["metatool", "sealtools"])
    parser.add_argument("--cross-lexical", type=float, default=0.1)
    args = parser.parse_args()
    out = {name: run(name, args.data, args.cross_lexical) for name in args.sets}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
