"""Fit the coverage model of ``discovery/coverage.py`` on leave-out splits and choose the gap
threshold.

    python benchmarks/make_gap_splits.py --data ../shared/benchmarks/discovery
    python benchmarks/calibrate_gaps.py [--fit-seed 0 --check-seed 1 --limit 600]

For every query of the fit splits, each candidate of each part gets the features of
``coverage.FEATURES`` and the label "is a relevant tool" (single-part queries only: a label
says which tool serves the whole request). A logistic regression (Newton steps, light L2) gives
the weights; the threshold is the highest whose false-gap rate on the fit splits stays at most
``--max-false`` on every set, and the check splits report what it does on unseen leave-outs.
Paste the printed weights and threshold into coverage.py.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from toolfoundry.discovery import coverage
from toolfoundry.discovery.bench import load_queries, load_tools
from toolfoundry.discovery.gap_bench import retriever_for

SPLITS = Path(__file__).parent / "data" / "gaps"


def collect(split: Path, limit: int) -> tuple[list, list]:
    """Per query: (missing?, [per part: [(features, relevant?) per candidate]])."""
    docs = load_tools(split / "tools.jsonl")
    retriever = retriever_for(docs)
    present = {d.id for d in docs}
    out = []
    for row in load_queries(split / "queries.jsonl", limit):
        relevant = set(row["relevant"])
        parts = [
            [(part.features[h.id], h.id in relevant) for h in part.hits]
            for part in retriever.evidence(row["query"])
        ]
        out.append((bool(relevant - present), parts))
    return out, []


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 25) -> np.ndarray:
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + l2 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(x.shape[1])
        w -= np.linalg.solve(hess, grad)
    return w


def query_scores(data: list, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per query, the weakest part's best candidate probability, and whether it should gap."""
    scores, should = [], []
    for missing, parts in data:
        per_part = [
            max((coverage.probability(f, w) for f, _ in part), default=0.0) for part in parts
        ]
        scores.append(min(per_part, default=0.0))
        should.append(missing)
    return np.array(scores), np.array(should)


def rates(scores: np.ndarray, should: np.ndarray, t: float) -> dict:
    flagged = scores < t
    tp = int((flagged & should).sum())
    fp = int((flagged & ~should).sum())
    recall = tp / max(1, should.sum())
    precision = tp / max(1, tp + fp)
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    return {
        "recall": round(100 * recall, 1),
        "precision": round(100 * precision, 1),
        "f1": round(100 * f1, 1),
        "false_gap_rate": round(100 * fp / max(1, (~should).sum()), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fit-seed", type=int, default=0)
    parser.add_argument("--check-seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=600)
    parser.add_argument("--max-false", type=float, default=8.0)
    args = parser.parse_args()
    sets = ("metatool", "sealtools")
    fit_data = {s: collect(SPLITS / f"{s}-s{args.fit_seed}", args.limit)[0] for s in sets}
    check = {s: collect(SPLITS / f"{s}-s{args.check_seed}", args.limit)[0] for s in sets}
    rows = [
        (f, rel) for s in sets for _, parts in fit_data[s] if len(parts) == 1 for f, rel in parts[0]
    ]
    x = np.stack([f for f, _ in rows])
    y = np.array([float(r) for _, r in rows])
    w = fit(x, y)
    print(
        "weights:", json.dumps(dict(zip(coverage.FEATURES, np.round(w, 3).tolist(), strict=True)))
    )
    fitted = {s: query_scores(fit_data[s], w) for s in sets}
    best = 0.0
    for t in np.arange(0.02, 0.98, 0.01):
        if all(rates(*fitted[s], t)["false_gap_rate"] <= args.max_false for s in sets):
            best = float(t)
    print(f"threshold: {best:.2f}")
    for s in sets:
        print(s, "fit", rates(*fitted[s], best), "check", rates(*query_scores(check[s], w), best))


if __name__ == "__main__":
    main()
