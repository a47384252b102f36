"""Leave-out splits for ``toolfoundry bench gaps``: a tool set minus a random share of its tools,
and a sample of its queries, about a fifth of which lost a relevant tool.

    python benchmarks/make_gap_splits.py [--data ../shared/benchmarks/discovery] [--seeds 0 1]

Writes ``benchmarks/data/gaps/<set>-s<seed>/{tools,queries}.jsonl`` (not committed: rerun to
regenerate, it is deterministic). Each query row keeps ``query`` and ``relevant`` and adds
``left_out``: the removed relevant tools (id, name, description), so the benchmark can check
that a gap names what is missing. Seed 0 is the calibration split, seed 1 the check.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

OUT = Path(__file__).parent / "data" / "gaps"
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "discovery"


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def split(
    name: str, data: Path, seed: int, fraction: float, queries: int, examples: Path | None = None
) -> Path:
    tools = read_jsonl(data / name / "tools.jsonl")
    if examples is not None:  # the set's tools with generated example requests
        written = {r["id"]: r.get("generated_examples", []) for r in read_jsonl(examples)}
        tools = [{**t, "generated_examples": written.get(t["id"], [])} for t in tools]
    rows = [r for r in read_jsonl(data / name / "queries.jsonl") if r.get("relevant")]
    rng = random.Random(f"{name}-{seed}")
    removed = {t["id"]: t for t in rng.sample(tools, round(fraction * len(tools)))}
    # An evenly spaced sample (the sets are grouped by tool), shifted by a share of a step that
    # differs per seed, so the queries of the check split are not those of the fit split.
    step = len(rows) / queries
    shift = (seed * 0.618034) % 1.0 * step
    picked = [rows[min(len(rows) - 1, int(i * step + shift))] for i in range(queries)]
    out = OUT / f"{name}-s{seed}{'-examples' if examples else ''}"
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "tools.jsonl", [t for t in tools if t["id"] not in removed])
    write_jsonl(
        out / "queries.jsonl",
        [
            {
                "query": r["query"],
                "relevant": r["relevant"],
                "left_out": [
                    {k: removed[i][k] for k in ("id", "name", "description")}
                    for i in r["relevant"]
                    if i in removed
                ],
            }
            for r in picked
        ],
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--fraction", type=float, default=0.2)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--sets", nargs="+", default=["metatool", "sealtools"])
    parser.add_argument(
        "--examples",
        type=Path,
        help="benchmarks/generate_examples.py output for the (one) set: splits get its "
        "generated examples, in <set>-s<seed>-examples/",
    )
    args = parser.parse_args()
    for name in args.sets:
        for seed in args.seeds:
            out = split(name, args.data, seed, args.fraction, args.queries, args.examples)
            qs = read_jsonl(out / "queries.jsonl")
            gaps = sum(bool(q["left_out"]) for q in qs)
            print(f"{out}: {len(qs)} queries, {gaps} should get a gap")


if __name__ == "__main__":
    main()
