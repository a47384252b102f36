"""The CodeReAct loop on a real model, judged by hidden tests the model never sees.

`benchmarks/data/codereact_gaps.jsonl` holds 27 capability gaps (string, number, date and data
tasks, three needing a PyPI package, two impossible). Each goes through the CodeReAct loop with the
real stages (uv venv, security scan, bubblewrap sandbox, MCP validation with the gap's examples);
a server the loop accepts is then called over MCP, in the sandbox, on the gap's hidden cases. A gap
counts as solved when the loop built a server and every hidden case passes; an impossible gap
counts as handled when no server passes its hidden case (a server that "passes" one hard-coded it).

The model is whatever `TOOLFOUNDRY_LLM_*` configures (any OpenAI-compatible endpoint).

Run: .venv/bin/python benchmarks/codereact_gaps.py [--only NAME]... [--kind KIND]...
     [--limit N] [--max-iterations N] [--timeout S] [--out FILE]
Prints a JSON object and a short table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from toolfoundry import Settings
from toolfoundry.builder.models import BuildRequirement, Example
from toolfoundry.builder.stages.environment import BuildEnvironment
from toolfoundry.builder.stages.sandbox import BubblewrapSandbox, sandbox_available
from toolfoundry.builder.stages.validator import validate
from toolfoundry.builder.stages.workspace import BuildWorkspace
from toolfoundry.builder.strategies.codereact.loop import CodeReActLoop
from toolfoundry.llm import build_model, describe_model

DATA = Path(__file__).parent / "data" / "codereact_gaps.jsonl"


def load_gaps() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


async def hidden_results(
    workspace: BuildWorkspace, env: Any, gap: dict[str, Any]
) -> list[dict[str, Any]]:
    """Call the accepted server on the hidden cases, without its own tests."""
    hidden_dir = workspace.root / "hidden"
    hidden_dir.mkdir()
    hidden_dir.chmod(0o755)
    for path in workspace.server_dir.iterdir():
        if path.is_file() and not path.name.startswith("test_"):
            shutil.copy(path, hidden_dir / path.name)
            (hidden_dir / path.name).chmod(0o644)
    requirement = BuildRequirement(
        description=gap["description"],
        examples=[Example(input=h["input"], expected=h["expected"]) for h in gap["hidden"]],
    )
    report = await validate(
        hidden_dir, env, workspace.sandbox, requirement, work_dir=workspace.root / "hidden-work"
    )
    rows = [
        {"passed": e.passed, "actual": e.actual, "error": e.error, "expected": e.expected}
        for e in report.examples
    ]
    if not rows:
        rows = [{"passed": False, "error": "; ".join(report.errors)[:300]}]
    return rows


async def run_gap(
    gap: dict[str, Any], model: Any, environment: BuildEnvironment, args: argparse.Namespace
) -> dict[str, Any]:
    loop = CodeReActLoop(model, max_iterations=args.max_iterations, timeout=args.timeout)
    # A shared local model queues requests and finishes abandoned ones anyway: waiting long
    # beats timing out and sending the same request again.
    loop.generator.request_timeout = args.request_timeout
    requirement = BuildRequirement(
        description=gap["description"],
        dependencies=gap["dependencies"],
        examples=gap["examples"],
    )
    with tempfile.TemporaryDirectory(prefix=f"tf-gap-{gap['name']}-") as tmp:
        workspace = BuildWorkspace(
            Path(tmp),
            requirement,
            sandbox=BubblewrapSandbox(),
            environment=environment,
            on_phase=lambda phase: None,
            on_progress=lambda line: None,
        )
        started = time.monotonic()
        try:
            result = await loop.run(requirement, workspace, lambda line: None)
        except Exception as exc:  # a crash of the loop is a result of this benchmark
            return {
                "gap": gap["name"],
                "kind": gap["kind"],
                "built": False,
                "solved": False,
                "first_try": False,
                "iterations": 0,
                "seconds": round(time.monotonic() - started, 2),
                "classes": [],
                "repairs": [],
                "error": f"loop crashed: {type(exc).__name__}: {exc}"[:400],
            }
        seconds = time.monotonic() - started
        hidden: list[dict[str, Any]] = []
        if result.attempt is not None:
            hidden = await hidden_results(workspace, result.attempt.environment, gap)
    all_hidden = bool(hidden) and all(h["passed"] for h in hidden)
    return {
        "gap": gap["name"],
        "kind": gap["kind"],
        "built": result.success,
        "hidden_passed": sum(h["passed"] for h in hidden),
        "hidden_total": len(gap["hidden"]),
        "solved": result.success and all_hidden,
        "first_try": result.metrics.first_try and all_hidden,
        "iterations": result.metrics.iterations,
        "answers": sum(i.answers for i in result.iterations),
        "seconds": round(seconds, 2),
        "classes": [i.error_class for i in result.iterations if i.error_class],
        "repairs": [h.model_dump() for h in result.metrics.healing],
        "error": (result.error or "")[:400] or None,
        "hidden_failures": [h for h in hidden if not h["passed"]][:3],
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    possible = [r for r in rows if r["kind"] != "impossible"]
    impossible = [r for r in rows if r["kind"] == "impossible"]
    seconds = [r["seconds"] for r in rows]
    fired: Counter[str] = Counter()
    worked: Counter[str] = Counter()
    for row in rows:
        for repair in row["repairs"]:
            key = f"{repair['strategy']}/{repair['error_class']}"
            fired[key] += 1
            worked[key] += int(repair["helped"])
    return {
        "gaps": len(rows),
        "possible": len(possible),
        "success_rate": round(sum(r["solved"] for r in possible) / len(possible), 3)
        if possible
        else None,
        "built_rate": round(sum(r["built"] for r in possible) / len(possible), 3)
        if possible
        else None,
        "first_try_rate": round(sum(r["first_try"] for r in possible) / len(possible), 3)
        if possible
        else None,
        "impossible_handled": sum(not r["solved"] for r in impossible),
        "impossible": len(impossible),
        "mean_iterations": round(statistics.mean(r["iterations"] for r in rows), 2),
        "median_s": round(statistics.median(seconds), 1),
        "p95_s": round(_p95(seconds), 1),
        "error_classes": dict(Counter(c for r in rows for c in r["classes"])),
        "healing": {k: {"fired": fired[k], "helped": worked[k]} for k in sorted(fired)},
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    status = sandbox_available()
    if not status.available:
        raise SystemExit(f"bubblewrap unusable: {status.reason}")
    settings = Settings()
    if not settings.llm_model:
        raise SystemExit("configure TOOLFOUNDRY_LLM_MODEL (and _BASE_URL, _API_KEY) first")
    gaps = [
        g
        for g in load_gaps()
        if (not args.only or g["name"] in args.only) and (not args.kind or g["kind"] in args.kind)
    ][: args.limit]
    model = build_model(settings)
    environment = BuildEnvironment()
    rows = []
    for gap in gaps:
        row = await run_gap(gap, model, environment, args)
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.out:
            await asyncio.to_thread(Path(args.out).write_text, json.dumps(rows, indent=1))
    return {
        "benchmark": "codereact_gaps",
        "model": describe_model(model),
        "machine": f"{platform.machine()} Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "max_iterations": args.max_iterations,
        **summarise(rows),
        "builds": rows,
    }


def _table(report: dict[str, Any]) -> str:
    lines = [f"{'gap':24} {'kind':10} {'built':5} {'hidden':6} {'iter':4} {'s':>6}  classes"]
    for r in report["builds"]:
        lines.append(
            f"{r['gap']:24} {r['kind']:10} {'✓' if r['built'] else '✗':5} "
            f"{r.get('hidden_passed', 0)}/{r.get('hidden_total', 0):<4} {r['iterations']:<4} "
            f"{r['seconds']:6.1f}  " + " → ".join(r["classes"])
        )
    lines.append(
        f"solved {report['success_rate']:.0%} of possible gaps · first try "
        f"{report['first_try_rate']:.0%} · impossible handled {report['impossible_handled']}/"
        f"{report['impossible']} · median {report['median_s']}s · p95 {report['p95_s']}s · "
        f"model {report['model']}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", action="append", help="run only this gap (repeatable)")
    parser.add_argument("--kind", action="append", help="run only gaps of this kind")
    parser.add_argument("--limit", type=int, default=None, help="the first N gaps only")
    parser.add_argument("--max-iterations", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per gap")
    parser.add_argument("--request-timeout", type=float, default=1800.0)
    parser.add_argument("--out", help="write the rows here as they finish")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(json.dumps({k: v for k, v in report.items() if k != "builds"}, indent=2))
    print()
    print(_table(report))


if __name__ == "__main__":
    main()
