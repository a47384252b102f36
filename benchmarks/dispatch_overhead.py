"""Dispatcher overhead of a trivial function tool: direct call vs `library.call` vs REST.

Run: .venv/bin/python benchmarks/dispatch_overhead.py [--calls 20000]
Prints a JSON object and a short table. Timings of one run are compared as ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from toolfoundry import Settings, ToolLibrary
from toolfoundry.api.app import create_app


async def echo_async(x: int) -> int:
    """Return x."""
    return x


def echo_sync(x: int) -> int:
    """Return x."""
    return x


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def time_calls(call, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        await call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure_rest(settings: Settings, args: dict[str, int], rest_calls: int) -> list[float]:
    """Per-call latency in µs through the REST API served by uvicorn in a thread."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/api/v1/tools/bench.echo_async/call"
    with httpx.Client() as client:
        for _ in range(200):
            client.post(url, json={"arguments": args})
        rest = []
        for _ in range(rest_calls):
            start = time.perf_counter_ns()
            response = client.post(url, json={"arguments": args})
            rest.append((time.perf_counter_ns() - start) / 1000)
            assert response.status_code == 200
    server.should_exit = True
    thread.join()

    return rest


async def measure_in_process(settings: Settings, calls: int) -> dict[str, list[float]]:
    """Per-call latency in µs: direct await vs library.call on async and sync tools."""
    async with ToolLibrary.open(settings) as library:
        await library.register(echo_async, toolkit="bench")
        await library.register(echo_sync, toolkit="bench")
        args = {"x": 1}
        for _ in range(2000):  # warm-up: caches, pydantic validators, thread pool
            await library.call("bench.echo_async", args)
            await library.call("bench.echo_sync", args)

        async def direct_async() -> int:
            return await echo_async(**args)

        async def direct_sync() -> int:
            return echo_sync(**args)

        results: dict[str, list[float]] = {k: [] for k in ("direct", "call_async", "call_sync")}
        # Interleave rounds so drift in machine load hits every path alike.
        for _ in range(10):
            results["direct"] += await time_calls(direct_async, calls // 10)
            results["call_async"] += await time_calls(
                lambda: library.call("bench.echo_async", args), calls // 10
            )
            results["call_sync"] += await time_calls(
                lambda: library.call("bench.echo_sync", args), calls // 10
            )
        await library.recorder.flush()
    return results


def main(calls: int, rest_calls: int) -> dict:
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="tf-bench-")), load_starters=False)
    results = asyncio.run(measure_in_process(settings, calls))
    rest = measure_rest(settings, {"x": 1}, rest_calls)

    direct_p50 = statistics.median(results["direct"])
    report = {
        "machine": f"{platform.machine()} {platform.processor() or ''} "
        f"python {platform.python_version()}".strip(),
        "calls": calls,
        "direct_us": {"p50": direct_p50, "p95": percentile(results["direct"], 0.95)},
        "library_call_async_us": {
            "p50": statistics.median(results["call_async"]),
            "p95": percentile(results["call_async"], 0.95),
        },
        "library_call_sync_us": {
            "p50": statistics.median(results["call_sync"]),
            "p95": percentile(results["call_sync"], 0.95),
        },
        "rest_ms": {
            "p50": statistics.median(rest) / 1000,
            "p95": percentile(rest, 0.95) / 1000,
            "calls": rest_calls,
        },
    }
    report["overhead_async_us_p50"] = report["library_call_async_us"]["p50"] - direct_p50
    report["overhead_sync_us_p50"] = report["library_call_sync_us"]["p50"] - direct_p50
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rest-calls", type=int, default=2000)
    ns = parser.parse_args()
    out = main(ns.calls, ns.rest_calls)
    print(json.dumps(out, indent=2))
    print(f"\n{'path':<28}{'p50':>12}{'p95':>12}")
    print(
        f"{'direct await':<28}{out['direct_us']['p50']:>10.1f}us{out['direct_us']['p95']:>10.1f}us"
    )
    for key, label in (
        ("library_call_async_us", "library.call (async fn)"),
        ("library_call_sync_us", "library.call (sync fn)"),
    ):
        print(f"{label:<28}{out[key]['p50']:>10.1f}us{out[key]['p95']:>10.1f}us")
    print(
        f"{'REST POST .../call':<28}"
        f"{out['rest_ms']['p50']:>10.2f}ms{out['rest_ms']['p95']:>10.2f}ms"
    )
    print(
        f"\noverhead p50: async {out['overhead_async_us_p50']:.1f} us, "
        f"sync {out['overhead_sync_us_p50']:.1f} us"
    )
