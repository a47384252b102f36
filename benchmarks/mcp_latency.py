"""Per-call latency and throughput to one stdio MCP server: `McpConnectionManager` vs a direct
fastmcp `Client` held open.

Latency: `--calls` calls per path, interleaved round by round (the order alternates) so drift
on the machine hits every path alike. Throughput: `--callers` concurrent callers per path, each
making `--per-caller` calls; the paths take turns `--repeats` times and the median counts.
Each path is one async context manager yielding `call(text)`; add a path by adding one to PATHS.

Run: .venv/bin/python benchmarks/mcp_latency.py [--calls 500] [--callers 50]
Prints a JSON object and a short table. Timings of one run are compared as ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastmcp import Client
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport

from toolfoundry import Settings, ToolLibrary
from toolfoundry.gateway import build_gateway
from toolfoundry.mcp import McpConnectionManager, McpServerConfig

ROOT = Path(__file__).resolve().parent.parent
ECHO_SERVER = ROOT / "tests" / "mcp" / "servers" / "echo_server.py"
SERVER_ARGS = [str(ECHO_SERVER), "stdio"]
QUIET_ENV = {"FASTMCP_SHOW_SERVER_BANNER": "false", "FASTMCP_CHECK_FOR_UPDATES": "off"}
WARMUP = 50
# With --http every path talks to ONE server process over streamable HTTP, so differences
# between paths are not differences between server processes.
HTTP_URL: str | None = None


def server_config() -> dict[str, Any]:
    if HTTP_URL:
        return {"name": "echo", "url": HTTP_URL}
    return {"name": "echo", "command": sys.executable, "args": SERVER_ARGS, "env": QUIET_ENV}


Call = Callable[[str], Awaitable[Any]]
PathFactory = Callable[[], AbstractAsyncContextManager[Call]]


@asynccontextmanager
async def direct_client() -> AsyncIterator[Call]:
    """The baseline: one fastmcp Client kept open, raw `tools/call` results."""
    transport = (
        StreamableHttpTransport(HTTP_URL)
        if HTTP_URL
        else StdioTransport(sys.executable, SERVER_ARGS, env=QUIET_ENV, keep_alive=False)
    )
    async with Client(transport, mode="legacy") as client:
        yield lambda text: client.call_tool_mcp("echo", {"text": text})


@asynccontextmanager
async def manager() -> AsyncIterator[Call]:
    """`McpConnectionManager.call_tool`: breaker, shared session, status, error mapping."""
    config = McpServerConfig.model_validate(server_config())
    async with McpConnectionManager() as connections:
        await connections.add(config)
        yield lambda text: connections.call_tool("echo", "echo", {"text": text})


@asynccontextmanager
async def library_call() -> AsyncIterator[Call]:
    """`ToolLibrary.call`: catalog lookup, argument validation, dispatcher, call record."""
    data_dir = Path(tempfile.mkdtemp(prefix="tf-mcp-bench-"))
    async with ToolLibrary.open(Settings(data_dir=data_dir, load_starters=False)) as library:
        await library.add_mcp_server(server_config())
        yield lambda text: library.call("echo.echo", {"text": text})


@asynccontextmanager
async def gateway() -> AsyncIterator[Call]:
    """The MCP gateway (in-memory client → gateway → library.call → the server)."""
    data_dir = Path(tempfile.mkdtemp(prefix="tf-mcp-bench-"))
    async with ToolLibrary.open(Settings(data_dir=data_dir, load_starters=False)) as library:
        await library.add_mcp_server(server_config())
        async with Client(build_gateway(library), mode="legacy") as client:
            yield lambda text: client.call_tool_mcp("echo.echo", {"text": text})


PATHS: dict[str, PathFactory] = {
    "direct": direct_client,
    "manager": manager,
    "library_call": library_call,
    "gateway": gateway,
}


def child_processes() -> int:
    """Live children of this process, from /proc (Linux); -1 where /proc is missing."""
    proc = Path("/proc")
    if not proc.is_dir():
        return -1
    count = 0
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            except (OSError, ValueError):
                continue
            count += int(ppid) == os.getpid() and state != "Z"
    return count


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def latency(calls: dict[str, Call], rounds: int) -> dict[str, dict[str, float]]:
    samples: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for name in names:
        for _ in range(WARMUP):
            await calls[name]("warm")
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            started = time.perf_counter()
            await calls[name]("x")
            samples[name].append((time.perf_counter() - started) * 1000)
    return {
        name: {
            "p50_ms": round(statistics.median(values), 4),
            "p95_ms": round(percentile(values, 0.95), 4),
            "mean_ms": round(statistics.fmean(values), 4),
        }
        for name, values in samples.items()
    }


async def throughput(call: Call, callers: int, per_caller: int) -> float:
    async def caller() -> None:
        for _ in range(per_caller):
            await call("x")

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return round(callers * per_caller / (time.perf_counter() - started), 1)


async def run(rounds: int, callers: int, per_caller: int, repeats: int) -> dict[str, Any]:
    before = child_processes()
    async with AsyncExitStack() as stack:
        calls = {name: await stack.enter_async_context(path()) for name, path in PATHS.items()}
        spawned = child_processes() - before
        results = await latency(calls, rounds)
        rates: dict[str, list[float]] = {name: [] for name in calls}
        for index in range(repeats):
            for name in calls if index % 2 == 0 else reversed(list(calls)):
                rates[name].append(await throughput(calls[name], callers, per_caller))
        for name, values in rates.items():
            results[name]["calls_per_s"] = statistics.median(values)
        # Still one child per path, however many calls were made.
        results_children = child_processes() - before
    ratio = {
        name: {
            "p50": round(results[name]["p50_ms"] / results["direct"]["p50_ms"], 3),
            "p95": round(results[name]["p95_ms"] / results["direct"]["p95_ms"], 3),
            "throughput": round(results[name]["calls_per_s"] / results["direct"]["calls_per_s"], 3),
        }
        for name in results
        if name != "direct"
    }
    return {
        "benchmark": "mcp_latency",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "server": "tests/mcp/servers/echo_server.py over stdio",
        "calls_per_path": rounds,
        "concurrent_callers": callers,
        "calls_per_caller": per_caller,
        "throughput_repeats": repeats,
        "child_processes": {"after_start": spawned, "after_all_calls": results_children},
        "paths": results,
        "ratio_to_direct": ratio,
    }


def table(report: dict[str, Any]) -> str:
    lines = [
        f"{'path':<13} {'p50 ms':>8} {'p95 ms':>8} {'calls/s':>9} {'p50 ratio':>10}",
    ]
    for name, values in report["paths"].items():
        ratio = report["ratio_to_direct"].get(name, {}).get("p50", 1.0)
        lines.append(
            f"{name:<13} {values['p50_ms']:>8.3f} {values['p95_ms']:>8.3f} "
            f"{values['calls_per_s']:>9.0f} {ratio:>9.3f}x"
        )
    children = report["child_processes"]
    lines.append(
        f"child processes: {children['after_start']} after start, "
        f"{children['after_all_calls']} after all calls"
    )
    return "\n".join(lines)


def start_http_server() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(ECHO_SERVER), "http", str(port)],
        env={**os.environ, **QUIET_ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server, f"http://127.0.0.1:{port}/mcp"
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("echo server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="latency calls per path")
    parser.add_argument("--callers", type=int, default=50, help="concurrent callers")
    parser.add_argument("--per-caller", type=int, default=20, help="calls per concurrent caller")
    parser.add_argument("--repeats", type=int, default=5, help="throughput runs per path")
    parser.add_argument(
        "--http", action="store_true", help="one shared server over streamable HTTP"
    )
    args = parser.parse_args()
    server = None
    if args.http:
        global HTTP_URL
        server, HTTP_URL = start_http_server()
    try:
        report = asyncio.run(run(args.calls, args.callers, args.per_caller, args.repeats))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    report["transport"] = "streamable-http, one shared server" if args.http else "stdio"
    print(json.dumps(report, indent=2))
    print(table(report))


if __name__ == "__main__":
    main()
