"""Discovery on the Chinese dev set (``benchmarks/data/discovery_zh``): Chinese requests over the
English tool texts of MetaTool and Seal-Tools, beside the same requests in English.

    python benchmarks/discovery_chinese.py [--data ../shared/benchmarks/discovery] [--sets metatool]
        [--cross-lexical 0.1 0.4] [--gloss 0 0.5 0.6 1]

Per set, one index (MiniLM + BM25, e5 for Chinese requests): the first Chinese request's
latency (it embeds the catalog with e5 and reads the dictionary), then R@5 / Hit@1 of the
Chinese queries for every pair of BM25 weight on the e5 route (``cross_script_lexical_weight``)
and weight of the glossed English search (``gloss_weight``; 1 = the glossed search alone), and
R@5 of the English originals with the defaults. Query vectors are cached after the first pass,
so only the first variant's latency is a real one.
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


def run(
    name: str,
    data: Path,
    cross: list[float],
    gloss: list[float],
    tools_path: Path | None = None,
) -> dict:
    tools = load_tools(tools_path or data / name / "tools.jsonl")
    rows = load_queries(ZH / f"{name}.queries.jsonl")
    gold = [r["relevant"] for r in rows]
    index = HybridIndex(get_embedder("minilm"), multilingual=get_embedder("e5"))
    defaults = (index.cross_script_lexical_weight, index.gloss_weight)
    for start in range(0, len(tools), 64):
        index.add(tools[start : start + 64])
    t0 = time.perf_counter()
    index.search(rows[0]["query"], k=10)
    report: dict = {
        "tools": len(tools),
        "queries": len(rows),
        "first_chinese_request_s": round(time.perf_counter() - t0, 1),
        "variants": [],
    }
    for c, g in [(c, g) for c in cross for g in gloss]:
        index.cross_script_lexical_weight, index.gloss_weight = c, g
        ranked, latencies = [], []
        for row in rows:
            t1 = time.perf_counter()
            ranked.append([h.id for h in index.search(row["query"], k=10)])
            latencies.append((time.perf_counter() - t1) * 1000.0)
        m = retrieval_metrics(ranked, gold)
        report["variants"].append(
            {
                "cross_lexical": c,
                "gloss": g,
                "R@5": m["recall@5"],
                "Hit@1": m["hit@1"],
                "p95_ms": round(float(np.percentile(latencies, 95)), 1),
            }
        )
        print(name, report["variants"][-1], flush=True)
    index.cross_script_lexical_weight, index.gloss_weight = defaults
    english = [[h.id for h in index.search(r["english"], k=10)] for r in rows]
    m = retrieval_metrics(english, gold)
    report["english_originals"] = {"R@5": m["recall@5"], "Hit@1": m["hit@1"]}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("/work/shared/benchmarks/discovery"))
    parser.add_argument("--sets", nargs="+", default=["metatool", "sealtools"])
    parser.add_argument("--cross-lexical", type=float, nargs="+", default=[0.1])
    parser.add_argument("--gloss", type=float, nargs="+", default=[0.0, 0.5])
    parser.add_argument(
        "--tools", type=Path, help="a tools.jsonl to use instead of the set's (one set only)"
    )
    args = parser.parse_args()
    out = {
        name: run(name, args.data, args.cross_lexical, args.gloss, args.tools) for name in args.sets
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
