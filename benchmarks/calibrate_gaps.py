"""Fit the gap model of ``discovery/gap_model.py`` on leave-out splits and choose its cut.

    python benchmarks/make_gap_splits.py --data ../shared/benchmarks/discovery
    python benchmarks/calibrate_gaps.py [--fit-seed 0 --check-seed 1 --limit 600 --max-false 10]

For every query of a split: the gap model's features (``Retriever.absence_features``), the
label "a relevant tool was left out", and whether coverage alone finds an uncovered part (the
service reports a gap only when both say so). A logistic regression (Newton steps, light L2,
on standardised features) is fitted on the fit splits of both sets together; the cut is the
lowest probability whose false-gap rate stays at most ``--max-false`` percent on every fit
split. The check splits (other tools left out, other queries) report what that does on data
the fit never saw. Paste the printed weights and cut into gap_model.py.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from toolfoundry.discovery import gap_model
from toolfoundry.discovery.bench import load_queries, load_tools
from toolfoundry.discovery.gap_bench import retriever_for

SPLITS = Path(__file__).parent / "data" / "gaps"
SETS = ("metatool", "sealtools")


def collect(split: Path, limit: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, should-gap labels and coverage flags of every query of ``split``."""
    docs = load_tools(split / "tools.jsonl")
    retriever = retriever_for(docs)
    retriever.min_absence = 0.0  # coverage alone decides: its flag is one of the outputs
    present = {d.id for d in docs}
    feats, should, flagged = [], [], []
    for row in load_queries(split / "queries.jsonl", limit):
        whole = retriever.index.search(row["query"], 10)
        parts = retriever.evidence(row["query"])
        feats.append(retriever.absence_features(whole, parts))
        should.append(bool(set(row["relevant"]) - present))
        flagged.append(bool(retriever.retrieve(row["query"]).gaps))
    return np.stack(feats), np.array(should), np.array(flagged)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 0.1, steps: int = 30) -> np.ndarray:
    """Logistic regression weights on the raw feature scale (column 0 is the bias)."""
    mean, std = x[:, 1:].mean(axis=0), x[:, 1:].std(axis=0) + 1e-9
    xs = np.hstack([x[:, :1], (x[:, 1:] - mean) / std])
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(xs @ w)))
        grad = xs.T @ (p - y) + l2 * w
        hess = (xs * (p * (1 - p))[:, None]).T @ xs + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    raw = w.copy()
    raw[1:] = w[1:] / std
    raw[0] = w[0] - float((w[1:] * mean / std).sum())
    return raw


def rates(prob: np.ndarray, should: np.ndarray, covered_gap: np.ndarray, cut: float) -> dict:
    flagged = covered_gap & (prob >= cut)
    tp = int((flagged & should).sum())
    fp = int((flagged & ~should).sum())
    recall = tp / max(1, int(should.sum()))
    precision = tp / max(1, tp + fp)
    return {
        "recall": round(100 * recall, 1),
        "precision": round(100 * precision, 1),
        "f1": round(200 * precision * recall / max(1e-9, precision + recall), 1),
        "false_gap_rate": round(100 * fp / max(1, int((~should).sum())), 1),
    }


def auc(should: np.ndarray, prob: np.ndarray) -> float:
    """Chance that a query with a left-out tool scores above an answerable one."""
    ranks = np.argsort(np.argsort(prob)) + 1.0
    n1, n0 = int(should.sum()), int((~should).sum())
    return round(float((ranks[should].sum() - n1 * (n1 + 1) / 2) / max(1, n1 * n0)), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fit-seed", type=int, default=0)
    parser.add_argument("--check-seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=600)
    parser.add_argument("--max-false", type=float, default=10.0)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    args = parser.parse_args()
    sets = tuple(args.sets)
    data = {
        (s, seed): collect(SPLITS / f"{s}-s{seed}", args.limit)
        for s in sets
        for seed in (args.fit_seed, args.check_seed)
    }
    fit_rows = [data[s, args.fit_seed] for s in sets]
    w = fit(np.vstack([f for f, _, _ in fit_rows]), np.concatenate([y for _, y, _ in fit_rows]))
    print(
        "WEIGHTS:", json.dumps(dict(zip(gap_model.FEATURES, np.round(w, 4).tolist(), strict=True)))
    )
    prob = {
        k: np.array([gap_model.absence_probability(f, w) for f in v[0]]) for k, v in data.items()
    }
    cut = 1.0
    for c in np.arange(0.99, 0.0, -0.01):
        fit_ok = all(
            rates(prob[s, args.fit_seed], *data[s, args.fit_seed][1:], float(c))["false_gap_rate"]
            <= args.max_false
            for s in sets
        )
        if not fit_ok:
            break
        cut = float(c)
    print(f"cut: {cut:.2f}")
    for (s, seed), (_, should, covered_gap) in data.items():
        role = "fit" if seed == args.fit_seed else "check"
        print(
            s, seed, role, "auc", auc(should, prob[s, seed]),
            "with cut", rates(prob[s, seed], should, covered_gap, cut),
            "coverage alone", rates(prob[s, seed], should, covered_gap, 0.0),
        )  # fmt: skip


if __name__ == "__main__":
    main()
