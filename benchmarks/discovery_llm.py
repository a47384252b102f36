"""Discovery's LLM mode against a real model, next to retrieval-only, on the MetaTool set.

Builds the retriever the gap benchmark uses (``gap_bench.retriever_for``: the hybrid index plus
coverage, over tools read from files), then for an evenly spaced sample of queries runs
retrieval-only discovery and the LLM step exactly as ``DiscoveryService.discover`` does: the
ten-tool shortlist from the index, ``reason_with_model`` under a timeout, and retrieval's result
kept on a timeout or failure. The model is whatever ``TOOLFOUNDRY_LLM_*`` configures. Requests
go one at a time (local servers answer one at a time; an abandoned request keeps them busy).

Run: ``.venv/bin/python benchmarks/discovery_llm.py [--limit 40] [--timeout 90] [--budget S]
[--raw F.jsonl]``; ``--budget`` starts no new query after S seconds and reports the ones done.
Prints a JSON object and a short table; skips cleanly when the data set or the model is absent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from toolfoundry import Settings
from toolfoundry.discovery.bench import load_queries, load_tools, retrieval_metrics
from toolfoundry.discovery.gap_bench import gap_metrics, retriever_for
from toolfoundry.discovery.llm_reasoner import parse_answer, reason_with_model
from toolfoundry.discovery.results import DiscoveryResult
from toolfoundry.llm import build_model, describe_model

_SHORTLIST = 10  # as the service: the model sees retrieval's ten best
_PREFIX = "The model's choice within the retrieved shortlist: "


def _data_dir() -> Path | None:
    """shared/benchmarks/discovery next to the checkout (main or a worktree one level down)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "benchmarks" / "discovery"
        if candidate.is_dir():
            return candidate
    return None


def _ids(result: DiscoveryResult) -> list[str]:
    return [t.id for t in result.tools + result.tool_filtering.backup_options]


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 1) if values else 0.0


def _mode_report(
    ranked: list[list[str]], gold: list[list[str]], latencies: list[float]
) -> dict[str, Any]:
    report = retrieval_metrics(ranked, gold)
    report["latency_ms"] = {"p50": _pct(latencies, 50), "p95": _pct(latencies, 95)}
    return report


async def run(
    limit: int,
    wait_s: float,
    raw_path: Path | None,
    budget_s: float | None = None,
    files: tuple[Path, Path] | None = None,
) -> dict[str, Any]:
    data = _data_dir()
    if files is None:
        if data is None or not (data / "metatool" / "tools.jsonl").is_file():
            return {"skipped": "MetaTool set not found under shared/benchmarks/discovery/metatool"}
        files = (data / "metatool" / "tools.jsonl", data / "metatool" / "queries.jsonl")
    model = build_model(Settings())
    if model is None:
        return {"skipped": "no model configured (TOOLFOUNDRY_LLM_MODEL)"}
    docs = load_tools(files[0])
    queries = load_queries(files[1], limit)
    present = {d.id for d in docs}
    retriever = retriever_for(docs)
    retriever.retrieve("warm up the embedders")
    planned = len(queries)
    plain: list[list[str]] = []
    llm: list[list[str]] = []
    plain_ms: list[float] = []
    llm_ms: list[float] = []
    tokens_in: list[int] = []
    tokens_out: list[int] = []
    fallbacks = {"timeout": 0, "error": 0, "no_pick": 0}
    # On a leave-out split (make_gap_splits.py) a query should get a gap exactly when one of
    # its relevant tools is missing; on the whole set every flagged gap is a false one.
    flagged: dict[str, list[bool]] = {"retrieval": [], "llm": []}
    raw = raw_path.open("w", encoding="utf-8") if raw_path else None
    started = time.monotonic()
    for n, row in enumerate(queries):
        if budget_s is not None and time.monotonic() - started > budget_s:
            queries = queries[:n]  # out of time: report the queries done
            break
        query = row["query"]
        t0 = time.perf_counter()
        retrieval = retriever.retrieve(query, 5)
        plain_ms.append((time.perf_counter() - t0) * 1000)
        flagged["retrieval"].append(bool(retrieval.gaps))
        plain.append(_ids(retrieval))
        # The LLM mode as the service runs it: retrieval, the shortlist, the model under a timeout.
        t0 = time.perf_counter()
        base = retriever.retrieve(query, 5)
        shortlist = [retriever.tools[h.id] for h in retriever.index.search(query, _SHORTLIST)]
        output, failure = "", None
        try:
            async with asyncio.timeout(wait_s):
                result = await reason_with_model(model, query, shortlist, base, top_k=5)
            output = result.tool_filtering.reasoning.removeprefix(_PREFIX)
            tokens_in.append(result.tokens["input"])
            tokens_out.append(result.tokens["output"])
            if not parse_answer(output, shortlist).order:
                fallbacks["no_pick"] += 1  # answered, but nothing usable: retrieval's order
        except TimeoutError:
            result, failure = base, "timeout"
            fallbacks["timeout"] += 1
        except Exception as exc:  # as the service: any model failure degrades to retrieval
            result, failure = base, f"{type(exc).__name__}: {exc}"
            fallbacks["error"] += 1
        llm_ms.append((time.perf_counter() - t0) * 1000)
        llm.append(_ids(result))
        flagged["llm"].append(bool(result.gaps))
        if raw is not None:
            record = {
                "query": query,
                "relevant": row["relevant"],
                "shortlist": [t.id for t in shortlist],
                "output": output,
                "failure": failure,
                "retrieval": plain[-1][:5],
                "llm": llm[-1][:5],
                "tokens": result.tokens,
                "gaps": {"retrieval": flagged["retrieval"][-1], "llm": flagged["llm"][-1]},
                "ms": round(llm_ms[-1]),
            }
            raw.write(json.dumps(record, ensure_ascii=False) + "\n")
            raw.flush()
        print(
            f"[{n + 1}/{len(queries)}] {llm_ms[-1] / 1000:.1f} s {failure or ''}",
            file=sys.stderr,
            flush=True,
        )
    if raw is not None:
        raw.close()
    should = [any(r not in present for r in row["relevant"]) for row in queries]
    answerable = [i for i, s in enumerate(should) if not s]
    gold = [queries[i]["relevant"] for i in answerable]
    plain_a, llm_a = [plain[i] for i in answerable], [llm[i] for i in answerable]
    better = worse = same = 0
    for a, b, g in zip(plain_a, llm_a, gold, strict=True):
        hit_a, hit_b = bool(a) and a[0] in g, bool(b) and b[0] in g
        better += hit_b and not hit_a
        worse += hit_a and not hit_b
        same += hit_a == hit_b

    def gaps(mode: str) -> dict[str, Any]:
        records = [
            {"should": s, "flagged": f, "names_missing": False}
            for s, f in zip(should, flagged[mode], strict=True)
        ]
        report = gap_metrics(records)
        report.pop("gap_names_missing")
        return report

    llm_report = _mode_report(llm_a, gold, llm_ms)
    llm_report.update(
        tokens={
            "prompt_mean": round(float(np.mean(tokens_in)), 1) if tokens_in else 0.0,
            "output_mean": round(float(np.mean(tokens_out)), 1) if tokens_out else 0.0,
        },
        fallbacks=fallbacks,
        hit1_vs_retrieval={"better": better, "worse": worse, "same": same},
        false_gap_queries=sum(f and not s for f, s in zip(flagged["llm"], should, strict=True)),
        gaps=gaps("llm"),
    )
    return {
        "set": str(files[1]),
        "tools": len(docs),
        "queries": len(queries),
        "answerable": len(answerable),
        "queries_planned": planned,
        "model": describe_model(model),
        "timeout_s": wait_s,
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "retrieval": {
            **_mode_report(plain_a, gold, plain_ms),
            "false_gap_queries": sum(
                f and not s for f, s in zip(flagged["retrieval"], should, strict=True)
            ),
            "gaps": gaps("retrieval"),
        },
        "llm": llm_report,
    }


def _table(report: dict[str, Any]) -> Table:
    table = Table(title=f"Discovery, {report['queries']} queries, {report['model']}")
    columns = (
        "mode",
        "R@5",
        "Hit@1",
        "prompt tok",
        "output tok",
        "p50 ms",
        "p95 ms",
        "fallbacks",
        "false gaps",
    )
    for col in columns:
        table.add_column(col)
    for mode in ("retrieval", "llm"):
        r = report[mode]
        tok = r.get("tokens", {})
        fb = r.get("fallbacks")
        table.add_row(
            mode,
            f"{r['recall@5']:.1f}",
            f"{r['hit@1']:.1f}",
            str(tok.get("prompt_mean", "-")),
            str(tok.get("output_mean", "-")),
            f"{r['latency_ms']['p50']:.1f}",
            f"{r['latency_ms']['p95']:.1f}",
            ", ".join(f"{k} {v}" for k, v in fb.items()) if fb else "-",
            str(r["false_gap_queries"]),
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=40, help="evenly spaced queries")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds per model answer")
    parser.add_argument("--budget", type=float, help="seconds; no new query after that")
    parser.add_argument("--raw", type=Path, help="write each query's model output here (JSONL)")
    parser.add_argument("--tools", type=Path, help="tools.jsonl (default: MetaTool's)")
    parser.add_argument(
        "--queries",
        type=Path,
        help="queries.jsonl (default: MetaTool's); a leave-out split adds gap metrics",
    )
    args = parser.parse_args()
    files = (args.tools, args.queries) if args.tools and args.queries else None
    report = asyncio.run(run(args.limit, args.timeout, args.raw, args.budget, files))
    print(json.dumps(report, indent=2))
    if "skipped" not in report:
        Console(width=120).print(_table(report))
        h = report["llm"]["hit1_vs_retrieval"]
        print("LLM vs retrieval, Hit@1 per query: " + ", ".join(f"{k} {v}" for k, v in h.items()))


if __name__ == "__main__":
    main()
