"""Does discovery learn from finished runs? Retrieval before and after a history of agent runs.

For each shared set, the queries are split (fixed seed) into a history and disjoint test
queries. Every history query becomes a real trajectory in a throwaway SQLite catalog (through
`TrajectoryStore`): a tool_execution step per relevant tool and a successful finish. A share of
runs (`--noise`) instead calls a wrong tool and fails — they must teach nothing. Discovery's
documents then get the served requests exactly as the service reads them (`served_requests`,
newest `--per-tool` per tool), and the test queries are ranked with and without them.

Run: ``python benchmarks/learning_feedback.py [--set metatool] [--history 2000] [--test 2000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from toolfoundry.discovery.bench import load_queries, load_tools, retrieval_metrics
from toolfoundry.discovery.documents import ToolDocument
from toolfoundry.discovery.embedders import (
    DEFAULT_EMBEDDER,
    CachedEmbedder,
    InMemoryEmbeddingCache,
    get_embedder,
)
from toolfoundry.discovery.index import HybridIndex
from toolfoundry.discovery.learned import learned_texts
from toolfoundry.store.database import create_engine, session_factory, upgrade
from toolfoundry.trajectory.learning import ServedRequest, served_requests
from toolfoundry.trajectory.models import StepInput, StepType, TrajectoryFinish, TrajectoryStart
from toolfoundry.trajectory.store import TrajectoryStore

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "discovery"
console = Console(stderr=True)


async def record_history(
    db_path: Path,
    history: list[dict[str, Any]],
    tool_ids: list[str],
    args: argparse.Namespace,
) -> tuple[dict[str, list[ServedRequest]], float]:
    engine = create_engine(f"sqlite+aiosqlite:///{db_path}")
    await upgrade(engine)
    sessions = session_factory(engine)
    store = TrajectoryStore(sessions)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    for i, row in enumerate(history):
        run = await store.start(TrajectoryStart(query=row["query"]))
        failed = rng.random() < args.noise
        tools = [rng.choice(tool_ids)] if failed else row["relevant"]
        for tool_id in tools:
            step = StepInput(
                step_type=StepType.TOOL_EXECUTION, tool_id=tool_id, execution_time=0.001
            )
            await store.add_step(run.trajectory_id, step)
        await store.finish(run.trajectory_id, TrajectoryFinish(success=not failed))
        if i % 250 == 0:
            console.print(f"  recorded {i + 1}/{len(history)} runs", end="\r")
    recording_s = time.perf_counter() - started
    served = await served_requests(sessions, per_tool=args.per_tool)
    await engine.dispose()
    return served, recording_s


def evaluate(
    index: HybridIndex, queries: list[dict[str, Any]]
) -> tuple[list[list[str]], list[float]]:
    ranked, latencies = [], []
    for row in queries:
        t0 = time.perf_counter()
        hits = index.search(row["query"], k=10)
        latencies.append((time.perf_counter() - t0) * 1000)
        ranked.append([h.id for h in hits])
    return ranked, latencies


def run_set(name: str, args: argparse.Namespace, embedder: CachedEmbedder) -> dict[str, Any]:
    folder = DATA / name
    tools = load_tools(folder / "tools.jsonl")
    queries = load_queries(folder / "queries.jsonl")
    rng = random.Random(args.seed)
    rng.shuffle(queries)
    # At most half the queries are history, so a small set still keeps held-out test queries.
    n_history = min(args.history, len(queries) // 2)
    history = queries[:n_history]
    test = queries[n_history : n_history + args.test]
    console.print(
        f"[bold]{name}[/]: {len(tools)} tools, {len(history)} history runs, {len(test)} test"
    )
    with tempfile.TemporaryDirectory() as tmp:
        served, recording_s = asyncio.run(
            record_history(Path(tmp) / "catalog.db", history, [t.id for t in tools], args)
        )

    baseline = HybridIndex(embedder)
    baseline.add(tools)
    learned_docs = [
        ToolDocument.model_validate(
            {**t.model_dump(), "served_requests": learned_texts(t, served.get(t.id, []))}
        )
        for t in tools
    ]
    learned = HybridIndex(embedder)
    learned.add(learned_docs)

    seen = set(served)
    result: dict[str, Any] = {
        "set": name,
        "tools": len(tools),
        "history_runs": len(history),
        "test_queries": len(test),
        "noise": args.noise,
        "per_tool": args.per_tool,
        "tools_with_history": len(seen),
        "recording_s": round(recording_s, 1),
    }
    groups = {
        "all": test,
        "tools_seen": [q for q in test if all(t in seen for t in q["relevant"])],
        "tools_unseen": [q for q in test if not any(t in seen for t in q["relevant"])],
    }
    for label, index in (("before", baseline), ("after", learned)):
        for group, rows in groups.items():
            if not rows:
                continue
            ranked, latencies = evaluate(index, rows)
            metrics = retrieval_metrics(ranked, [r["relevant"] for r in rows])
            metrics["queries"] = len(rows)
            if group == "all":
                metrics["latency_ms"] = {
                    "p50": round(float(np.percentile(latencies, 50)), 2),
                    "p95": round(float(np.percentile(latencies, 95)), 2),
                }
            result[f"{label}/{group}"] = metrics
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--set", choices=["metatool", "sealtools", "both"], default="both")
    parser.add_argument(
        "--history", type=int, default=2000, help="history runs recorded (at most half the set)"
    )
    parser.add_argument("--test", type=int, default=2000, help="held-out test queries")
    parser.add_argument("--noise", type=float, default=0.2, help="share of failed wrong-tool runs")
    parser.add_argument("--per-tool", type=int, default=32, help="served requests kept per tool")
    parser.add_argument("--embedder", default=DEFAULT_EMBEDDER)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"benchmark data not found at {DATA} (the shared folder beside the repo)")
    embedder = CachedEmbedder(get_embedder(args.embedder), InMemoryEmbeddingCache())
    sets = ["metatool", "sealtools"] if args.set == "both" else [args.set]
    results = [run_set(name, args, embedder) for name in sets]
    print(json.dumps(results, indent=2))

    table = Table(title="Discovery before / after learning from runs (R@5, Hit@1)")
    for column in (
        "set",
        "queries",
        "group",
        "R@5 before",
        "R@5 after",
        "Hit@1 before",
        "Hit@1 after",
    ):
        table.add_column(column)
    for r in results:
        for group in ("all", "tools_seen", "tools_unseen"):
            before, after = r.get(f"before/{group}"), r.get(f"after/{group}")
            if not before or not after:
                continue
            table.add_row(
                r["set"],
                str(before["queries"]),
                group,
                f"{before['recall@5']:.2f}",
                f"{after['recall@5']:.2f}",
                f"{before['hit@1']:.2f}",
                f"{after['hit@1']:.2f}",
            )
    console.print(table)


if __name__ == "__main__":
    main()
