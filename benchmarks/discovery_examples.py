"""What generated example requests add to retrieval (issue 11, item 4).

    python benchmarks/discovery_examples.py \
        --examples benchmarks/data/generated_examples/metatool.jsonl [--set metatool] [--every 7]

``--examples`` holds the ``generated_examples`` a model wrote for the set's tools
(``benchmarks/generate_examples.py``), joined to the set's tools by id. One index without the
examples, one with them; the latter is searched with several weights of the example vector in
the dense score (0 = the examples only reach the BM25 text). Queries: every ``--every``-th
English query of the set and the set's Chinese dev queries (``benchmarks/data/discovery_zh``).
The weight is chosen on the even-numbered queries and reported on the odd ones too, so the
choice can be checked.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from toolfoundry.discovery.bench import load_queries, load_tools, retrieval_metrics
from toolfoundry.discovery.embedders import get_embedder
from toolfoundry.discovery.example_writer import parse_examples
from toolfoundry.discovery.index import HybridIndex

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "discovery"
ZH = Path(__file__).parent / "data" / "discovery_zh"


def recall(index: HybridIndex, rows: list[dict]) -> dict[str, float]:
    ranked = [[h.id for h in index.search(r["query"], k=10)] for r in rows]
    gold = [r["relevant"] for r in rows]
    halves = {}
    for name, part in (("even", slice(0, None, 2)), ("odd", slice(1, None, 2))):
        halves[name] = retrieval_metrics(ranked[part], gold[part])["recall@5"]
    whole = retrieval_metrics(ranked, gold)
    return {"R@5": whole["recall@5"], "Hit@1": whole["hit@1"], **halves}


def build(tools: list, with_examples: bool) -> HybridIndex:
    index = HybridIndex(get_embedder("minilm"), multilingual=get_embedder("e5"))
    docs = [t if with_examples else t.model_copy(update={"generated_examples": []}) for t in tools]
    for start in range(0, len(docs), 64):
        index.add(docs[start : start + 64])
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--examples",
        type=Path,
        required=True,
        help="generate_examples.py output (rows with id and generated_examples)",
    )
    parser.add_argument("--set", default="metatool")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--every", type=int, default=7)
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.3, 0.5, 0.7])
    args = parser.parse_args()
    # The set's tools with the examples joined by id, re-read through today's parser (a file
    # written before a filter was added gets it too).
    written = {
        row["id"]: row.get("generated_examples", [])
        for row in map(json.loads, args.examples.read_text().splitlines())
    }
    tools = [
        t.model_copy(
            update={
                "generated_examples": parse_examples("\n".join(written.get(t.id, [])), 10, t.name)
            }
        )
        for t in load_tools(args.data / args.set / "tools.jsonl")
    ]
    english = load_queries(args.data / args.set / "queries.jsonl")[:: args.every]
    chinese = load_queries(ZH / f"{args.set}.queries.jsonl")
    report: dict = {
        "tools": len(tools),
        "with_examples": sum(bool(t.generated_examples) for t in tools),
        "english_queries": len(english),
        "chinese_queries": len(chinese),
        "variants": [],
    }
    plain = build(tools, with_examples=False)
    report["variants"].append(
        {"examples": False, "en": recall(plain, english), "zh": recall(plain, chinese)}
    )
    print(json.dumps(report["variants"][-1]), flush=True)
    taught = build(tools, with_examples=True)
    for weight in args.weights:
        taught.example_weight = weight
        row = {
            "examples": True,
            "example_weight": weight,
            "en": recall(taught, english),
            "zh": recall(taught, chinese),
        }
        report["variants"].append(row)
        print(json.dumps(row), flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
