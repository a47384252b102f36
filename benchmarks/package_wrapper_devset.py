"""No-model builds of popular PyPI packages: success rate, build time and why failures failed.

`benchmarks/data/package_wrapper_devset.jsonl` holds 56 requests a user could type, each naming
one package and one or two examples (functions and class APIs; text, integer, float, list and
object inputs). Each goes through the build service with no model configured (the package
wrapper strategy), in a fresh data directory so no build reuses another: uv venv, introspection,
probes in the sandbox, generated server validated over MCP in the sandbox, registration.

Run: .venv/bin/python benchmarks/package_wrapper_devset.py [--only PACKAGE]... [--out FILE]
Prints one JSON line per build, then a JSON summary and a short table. Needs bubblewrap and
access to the package index.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from toolfoundry import Settings, ToolLibrary
from toolfoundry.builder.models import BuildRequirement
from toolfoundry.builder.stages.sandbox import sandbox_available

DATA = Path(__file__).parent / "data" / "package_wrapper_devset.jsonl"


async def build_one(row: dict[str, Any]) -> dict[str, Any]:
    requirement = BuildRequirement(
        description=row["description"], dependencies=[row["package"]], examples=row["examples"]
    )
    with tempfile.TemporaryDirectory(prefix="tf-devset-") as tmp:
        settings = Settings(data_dir=tmp, load_starters=False, embedder="none", llm_model=None)
        async with ToolLibrary.open(settings) as library:
            await library.builds.start()
            started = time.monotonic()
            record = await library.build(requirement, budget=600)
            seconds = time.monotonic() - started
    result = record.result
    tools = result.mcp_asset.tools if result and result.mcp_asset else []
    return {
        "package": row["package"],
        "api": row["api"],
        "description": row["description"],
        "ok": record.status == "completed",
        "seconds": round(seconds, 1),
        "tools": tools,
        "error_class": getattr(record, "error_class", None),
        "error": (record.error_message or "")[:600] or None,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    status = sandbox_available()
    if not status.available:
        raise SystemExit(f"bubblewrap unusable: {status.reason}")
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if not args.only or r["package"] in args.only]
    results = []
    for row in rows:
        outcome = await build_one(row)
        results.append(outcome)
        print(json.dumps(outcome, ensure_ascii=False), flush=True)
        if args.out:
            text = json.dumps(results, indent=1, ensure_ascii=False)
            await asyncio.to_thread(Path(args.out).write_text, text)
    ok = [r for r in results if r["ok"]]
    by_api = {
        api: f"{sum(r['ok'] for r in results if r['api'] == api)}/"
        f"{sum(r['api'] == api for r in results)}"
        for api in sorted({r["api"] for r in results})
    }
    return {
        "benchmark": "package_wrapper_devset",
        "machine": f"{platform.machine()} Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "builds": len(results),
        "success_rate": round(len(ok) / len(results), 3),
        "by_api": by_api,
        "median_build_s": round(statistics.median(r["seconds"] for r in results), 1),
        "median_successful_build_s": round(statistics.median(r["seconds"] for r in ok), 1)
        if ok
        else None,
        "failure_classes": dict(Counter(r["error_class"] for r in results if not r["ok"])),
        "failures": [
            {"package": r["package"], "description": r["description"], "error": r["error"]}
            for r in results
            if not r["ok"]
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", action="append", help="only this package (repeatable)")
    parser.add_argument("--out", help="write the rows here as they finish")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    print()
    print(
        f"success {report['success_rate']:.0%} of {report['builds']} ({report['by_api']}) · "
        f"median build {report['median_build_s']}s"
    )
    for failure in report["failures"]:
        print(f"  ✗ {failure['package']}: {failure['description']} — {failure['error']}")


if __name__ == "__main__":
    main()
