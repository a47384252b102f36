"""The cost of durable call records: p50 per `library.call` and calls/s, records buffered
(fire-and-forget, the old mode) vs committed before the call returns (group commit, with no
window and with a 2 ms window), at 1 and 16 concurrent callers.

Run: .venv/bin/python benchmarks/call_records.py [--calls 2000] [--postgres URL]
Prints a JSON object and a short table; modes are interleaved in one run and compared as ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from toolfoundry import Settings, ToolLibrary

MODES: dict[str, dict[str, Any]] = {
    "buffered": {"durable_call_records": False},
    "durable": {"durable_call_records": True, "call_record_commit_window": 0.0},
    "durable_2ms": {"durable_call_records": True, "call_record_commit_window": 0.002},
}


async def echo(x: int) -> int:
    """Return x."""
    return x


async def run_mode(settings: Settings, calls: int, concurrency: int) -> dict[str, float]:
    async with ToolLibrary.open(settings) as library:
        await library.register(echo, toolkit="bench")
        for _ in range(200):
            await library.call("bench.echo", {"x": 1})
        samples: list[float] = []

        async def client(n: int) -> None:
            for _ in range(n):
                start = time.perf_counter()
                await library.call("bench.echo", {"x": 1})
                samples.append((time.perf_counter() - start) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(client(calls // concurrency) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 3),
        "calls_per_s": round(len(samples) / elapsed, 1),
    }


async def main(calls: int, postgres: str | None) -> dict[str, Any]:
    databases = {"sqlite": None} | ({"postgres": postgres} if postgres else {})
    report: dict[str, Any] = {"calls": calls, "results": {}}
    for db, url in databases.items():
        for concurrency in (1, 16):
            for mode, overrides in MODES.items():
                data_dir = Path(tempfile.mkdtemp(prefix="tf-rec-"))
                settings = Settings(
                    data_dir=data_dir,
                    database_url=url,
                    load_starters=False,
                    embedder="none",
                    **overrides,
                )
                result = await run_mode(settings, calls, concurrency)
                print(f"{db}/c{concurrency}/{mode}: {result}", file=sys.stderr, flush=True)
                report["results"][f"{db}/c{concurrency}/{mode}"] = result
            base = report["results"][f"{db}/c{concurrency}/buffered"]
            for mode in ("durable", "durable_2ms"):
                row = report["results"][f"{db}/c{concurrency}/{mode}"]
                row["p50_ratio"] = round(row["p50_ms"] / base["p50_ms"], 2)
                row["throughput_ratio"] = round(row["calls_per_s"] / base["calls_per_s"], 2)
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--postgres", default=None, help="A PostgreSQL URL to measure as well.")
    ns = parser.parse_args()
    out = asyncio.run(main(ns.calls, ns.postgres))
    print(json.dumps(out, indent=2))
    print(f"\n{'case':<32}{'p50 ms':>10}{'p99 ms':>10}{'calls/s':>10}{'p50 ×':>8}")
    for case, row in out["results"].items():
        ratio = row.get("p50_ratio", 1.0)
        print(
            f"{case:<32}{row['p50_ms']:>10.3f}{row['p99_ms']:>10.3f}"
            f"{row['calls_per_s']:>10.1f}{ratio:>8.2f}"
        )
