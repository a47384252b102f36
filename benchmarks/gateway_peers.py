"""The MCP gateway side by side with its peers, each served over streamable HTTP.

One upstream echo server (tests/mcp/servers/echo_server.py, streamable HTTP) sits behind every
path:
  direct         a fastmcp Client talking to the upstream itself (the baseline)
  toolfoundry    `toolfoundry serve` (its gateway at /mcp), the upstream registered in its catalog
  fastmcp_proxy  `fastmcp.server.create_proxy(upstream)` served by uvicorn

All paths share ONE upstream process. For each concurrency level (default 1, 16, 64) each
path gets that many concurrent clients — one MCP client (session) each — making `--calls`
calls; paths take turns at every level so drift on the machine hits them alike. Reported:
p50/p95/p99 per call, calls/s, and ratios to direct. ContextForge is not run here (see
docs/benchmarks.md).

Run: .venv/bin/python benchmarks/gateway_peers.py [--levels 1,16,64] [--calls 640]
Prints a JSON object and a short table.
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
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport

ROOT = Path(__file__).resolve().parent.parent
ECHO_SERVER = ROOT / "tests" / "mcp" / "servers" / "echo_server.py"
QUIET_ENV = {"FASTMCP_SHOW_SERVER_BANNER": "false", "FASTMCP_CHECK_FOR_UPDATES": "off"}
WARMUP = 20
LOGS: dict[int, str] = {}  # pid → its output file, shown when it dies at start

PROXY_SCRIPT = textwrap.dedent(
    """
    import json, sys, uvicorn
    from fastmcp.server import create_proxy
    target = json.loads(sys.argv[1])
    proxy = create_proxy(target)
    uvicorn.run(proxy.http_app(path="/mcp"), host="127.0.0.1", port=int(sys.argv[2]),
                log_level="warning")
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = Path(LOGS[process.pid]).read_text()[-2000:]
            raise RuntimeError(f"{process.args} exited with {process.returncode}:\n{log}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {seconds} s")


def spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    log = tempfile.NamedTemporaryFile(prefix="tf-peers-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        args, env={**os.environ, **QUIET_ENV, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
    )
    LOGS[process.pid] = log.name
    return process


# A path: an async context manager yielding (MCP URL, headers, tool name) for clients to use.
Endpoint = tuple[str, dict[str, str], str]


@asynccontextmanager
async def direct(upstream: str) -> AsyncIterator[Endpoint]:
    yield upstream, {}, "echo"


def auth_headers(data_dir: Path) -> dict[str, str]:
    """The admin token `serve` wrote on its first start, if auth is on."""
    token_file = next(iter(sorted(data_dir.glob("*token*"))), None)
    if token_file is None:
        return {}
    return {"Authorization": f"Bearer {token_file.read_text().strip()}"}


@asynccontextmanager
async def toolfoundry(upstream: str) -> AsyncIterator[Endpoint]:
    data_dir = Path(tempfile.mkdtemp(prefix="tf-peers-"))
    port = free_port()
    env = {"TOOLFOUNDRY_DATA_DIR": str(data_dir), "TOOLFOUNDRY_LOAD_STARTERS": "false"}
    cli = str(Path(sys.executable).parent / "toolfoundry")
    process = spawn([cli, "serve", "--port", str(port)], env=env)
    try:
        wait_for_port(port, process)
        headers = auth_headers(data_dir)
        body = {"name": "echo", "url": upstream}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            answer = await http.post("/api/v1/mcp-servers", json=body, headers=headers)
            answer.raise_for_status()
        yield f"http://127.0.0.1:{port}/mcp", headers, "echo.echo"
    finally:
        process.terminate()
        process.wait(timeout=30)


@asynccontextmanager
async def fastmcp_proxy(upstream: str) -> AsyncIterator[Endpoint]:
    port = free_port()
    process = spawn([sys.executable, "-c", PROXY_SCRIPT, json.dumps(upstream), str(port)])
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/mcp", {}, "echo"
    finally:
        process.terminate()
        process.wait(timeout=30)


PATHS = {"direct": direct, "toolfoundry": toolfoundry, "fastmcp_proxy": fastmcp_proxy}

Call = Callable[[], Awaitable[Any]]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(endpoint: Endpoint, clients: int, calls: int) -> dict[str, float]:
    url, headers, tool = endpoint
    latencies: list[float] = []

    async def one_client() -> None:
        transport = StreamableHttpTransport(url, headers=headers)
        async with Client(transport) as client:
            for _ in range(WARMUP // max(1, clients // 4)):
                await client.call_tool_mcp(tool, {"text": "warm"})
            await barrier.wait()
            for _ in range(calls):
                started = time.perf_counter()
                result = await client.call_tool_mcp(tool, {"text": "x"})
                latencies.append((time.perf_counter() - started) * 1000)
                if result.is_error:
                    raise RuntimeError(f"{tool} failed: {result.content}")

    barrier = asyncio.Barrier(clients + 1)
    tasks = [asyncio.create_task(one_client()) for _ in range(clients)]
    await barrier.wait()
    started = time.perf_counter()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return {
        "p50_ms": round(statistics.median(latencies), 3),
        "p95_ms": round(percentile(latencies, 0.95), 3),
        "p99_ms": round(percentile(latencies, 0.99), 3),
        "calls_per_s": round(len(latencies) / elapsed, 1),
    }


async def run(levels: list[int], calls: int) -> dict[str, Any]:
    port = free_port()
    upstream_process = spawn([sys.executable, str(ECHO_SERVER), "http", str(port)])
    wait_for_port(port, upstream_process)
    upstream_url = f"http://127.0.0.1:{port}/mcp"
    results: dict[str, dict[str, dict[str, float]]] = {name: {} for name in PATHS}
    try:
        endpoints: dict[str, Endpoint] = {}
        stack = []
        for name, factory in PATHS.items():
            manager = factory(upstream_url)
            endpoints[name] = await manager.__aenter__()
            stack.append(manager)
        try:
            for index, level in enumerate(levels):
                names = list(PATHS) if index % 2 == 0 else list(reversed(PATHS))
                for name in names:
                    per_client = max(20, calls // level)
                    results[name][str(level)] = await measure(endpoints[name], level, per_client)
                    print(f"  {name:<14} {level:>3} clients: {results[name][str(level)]}")
        finally:
            for manager in reversed(stack):
                await manager.__aexit__(None, None, None)
    finally:
        upstream_process.terminate()
        upstream_process.wait(timeout=30)
    ratios = {
        name: {
            level: {
                "p50": round(values["p50_ms"] / results["direct"][level]["p50_ms"], 3),
                "p99": round(values["p99_ms"] / results["direct"][level]["p99_ms"], 3),
                "throughput": round(
                    values["calls_per_s"] / results["direct"][level]["calls_per_s"], 3
                ),
            }
            for level, values in by_level.items()
        }
        for name, by_level in results.items()
        if name != "direct"
    }
    return {
        "benchmark": "gateway_peers",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_1m": round(os.getloadavg()[0], 2),
        },
        "upstream": "streamable HTTP, one shared process",
        "calls_per_level": calls,
        "paths": results,
        "ratio_to_direct": ratios,
    }


def table(report: dict[str, Any]) -> str:
    lines = [f"{'path':<14} {'clients':>7} {'p50':>8} {'p99':>8} {'calls/s':>8} {'p50 x':>7}"]
    for name, by_level in report["paths"].items():
        for level, values in by_level.items():
            ratio = report["ratio_to_direct"].get(name, {}).get(level, {}).get("p50", 1.0)
            lines.append(
                f"{name:<14} {level:>7} {values['p50_ms']:>8.2f} {values['p99_ms']:>8.2f} "
                f"{values['calls_per_s']:>8.0f} {ratio:>6.2f}x"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,16,64", help="concurrent clients per level")
    parser.add_argument("--calls", type=int, default=640, help="calls per path and level")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    report = asyncio.run(run(levels, args.calls))
    print(json.dumps(report, indent=2))
    print(table(report))


if __name__ == "__main__":
    main()
