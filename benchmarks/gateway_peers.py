"""The MCP gateway side by side with its peers, over an HTTP and a stdio upstream.

One upstream echo server (tests/mcp/servers/echo_server.py) sits behind every path, once over
streamable HTTP and once over stdio:
  direct                a fastmcp Client talking to the upstream itself (the baseline); over
                        stdio the callers share the one stdio session (one server process, as
                        behind the gateway)
  toolfoundry           `toolfoundry serve` (its gateway at /mcp, bearer token), the upstream
                        registered in its catalog
  fastmcp_proxy         `fastmcp.server.create_proxy(target)` under uvicorn (its default)
  fastmcp_proxy_client  `create_proxy(client)` over one connected fastmcp Client, under uvicorn

For each concurrency level (default 1, 16, 64) each path gets that many concurrent clients —
one MCP client (session) each, over streamable HTTP, except direct over stdio — making
`--calls` calls in all; paths take turns at every level so drift on the machine hits them
alike. Reported: p50/p95/p99 per call, calls/s, and ratios to direct. ContextForge is not run
here (see docs/benchmarks.md).

Run: .venv/bin/python benchmarks/gateway_peers.py [--levels 1,16,64] [--calls 640]
     [--upstreams http,stdio]
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
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastmcp import Client
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport

ROOT = Path(__file__).resolve().parent.parent
ECHO_SERVER = ROOT / "tests" / "mcp" / "servers" / "echo_server.py"
QUIET_ENV = {"FASTMCP_SHOW_SERVER_BANNER": "false", "FASTMCP_CHECK_FOR_UPDATES": "off"}
WARMUP = 20
LOGS: dict[int, str] = {}  # pid → its output file, shown when it dies at start

PROXY_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys, uvicorn
    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport
    from fastmcp.server import create_proxy

    target = json.loads(sys.argv[1])
    if isinstance(target, dict):  # a stdio server
        target = StdioTransport(target["command"], target["args"])

    async def serve(proxy):
        app = proxy.http_app(path="/mcp")
        config = uvicorn.Config(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
        await uvicorn.Server(config).serve()

    async def run():
        if sys.argv[3] == "client":  # one connected client shared by every request
            async with Client(target) as client:
                await serve(create_proxy(client))
        else:
            await serve(create_proxy(target))

    asyncio.run(run())
    """
)

# An upstream: a URL (streamable HTTP) or a stdio command {"command": ..., "args": [...]}.
Upstream = str | dict[str, Any]


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


class Endpoint:
    """How a path's callers reach it: a client each, or one shared client (direct stdio)."""

    def __init__(self, url: str, headers: dict[str, str], tool: str) -> None:
        self.url, self.headers, self.tool = url, headers, tool
        self.shared: Client[Any] | None = None

    def client(self) -> Client[Any]:
        return self.shared or Client(StreamableHttpTransport(self.url, headers=self.headers))


@asynccontextmanager
async def direct(upstream: Upstream) -> AsyncIterator[Endpoint]:
    if isinstance(upstream, str):
        yield Endpoint(upstream, {}, "echo")
        return
    endpoint = Endpoint("", {}, "echo")
    transport = StdioTransport(upstream["command"], upstream["args"], env=QUIET_ENV)
    async with Client(transport) as endpoint.shared:
        yield endpoint


def auth_headers(data_dir: Path) -> dict[str, str]:
    """The admin token `serve` wrote on its first start, if auth is on."""
    token_file = next(iter(sorted(data_dir.glob("*token*"))), None)
    if token_file is None:
        return {}
    return {"Authorization": f"Bearer {token_file.read_text().strip()}"}


@asynccontextmanager
async def toolfoundry(upstream: Upstream) -> AsyncIterator[Endpoint]:
    data_dir = Path(tempfile.mkdtemp(prefix="tf-peers-"))
    port = free_port()
    env = {
        "TOOLFOUNDRY_DATA_DIR": str(data_dir),
        "TOOLFOUNDRY_LOAD_STARTERS": "false",
        # The default bulkheads refuse a 17th call at once on one server or tool; the peers
        # have none, so the gateway runs without them here (the 64-client level).
        "TOOLFOUNDRY_MAX_CONCURRENT_PER_SERVER": "1000",
        "TOOLFOUNDRY_MAX_CONCURRENT_PER_TOOL": "1000",
        "TOOLFOUNDRY_MAX_INFLIGHT_REQUESTS": "1000",
    }
    cli = str(Path(sys.executable).parent / "toolfoundry")
    process = spawn([cli, "serve", "--port", str(port)], env=env)
    try:
        wait_for_port(port, process)
        headers = auth_headers(data_dir)
        where = {"url": upstream} if isinstance(upstream, str) else upstream
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            body = {"name": "echo", **where}
            answer = await http.post("/api/v1/mcp-servers", json=body, headers=headers)
            answer.raise_for_status()
        yield Endpoint(f"http://127.0.0.1:{port}/mcp", headers, "echo.echo")
    finally:
        process.terminate()
        process.wait(timeout=30)


def fastmcp_proxy(kind: str) -> Callable[[Upstream], AbstractAsyncContextManager[Endpoint]]:
    """`create_proxy(target)` ("target") or `create_proxy(connected client)` ("client")."""

    @asynccontextmanager
    async def served(upstream: Upstream) -> AsyncIterator[Endpoint]:
        port = free_port()
        args = [sys.executable, "-c", PROXY_SCRIPT, json.dumps(upstream), str(port), kind]
        process = spawn(args)
        try:
            wait_for_port(port, process)
            yield Endpoint(f"http://127.0.0.1:{port}/mcp", {}, "echo")
        finally:
            process.terminate()
            process.wait(timeout=30)

    return served


PATHS: dict[str, Callable[[Upstream], AbstractAsyncContextManager[Endpoint]]] = {
    "direct": direct,
    "toolfoundry": toolfoundry,
    "fastmcp_proxy": fastmcp_proxy("target"),
    "fastmcp_proxy_client": fastmcp_proxy("client"),
}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(endpoint: Endpoint, clients: int, calls: int) -> dict[str, float]:
    latencies: list[float] = []

    async def one_client() -> None:
        client = endpoint.client()
        async with contextlib_nullable(client, shared=endpoint.shared is not None):
            for _ in range(WARMUP // max(1, clients // 4)):
                await client.call_tool_mcp(endpoint.tool, {"text": "warm"})
            await barrier.wait()
            for _ in range(calls):
                started = time.perf_counter()
                result = await client.call_tool_mcp(endpoint.tool, {"text": "x"})
                latencies.append((time.perf_counter() - started) * 1000)
                if result.is_error:
                    raise RuntimeError(f"{endpoint.tool} failed: {result.content}")

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


@asynccontextmanager
async def contextlib_nullable(client: Client[Any], *, shared: bool) -> AsyncIterator[None]:
    """Enter the caller's own client; a shared one is already open."""
    if shared:
        yield
        return
    async with client:
        yield


@asynccontextmanager
async def echo_upstream(kind: str) -> AsyncIterator[Upstream]:
    if kind == "stdio":
        yield {"command": sys.executable, "args": [str(ECHO_SERVER), "stdio"]}
        return
    port = free_port()
    process = spawn([sys.executable, str(ECHO_SERVER), "http", str(port)])
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=30)


async def run_upstream(kind: str, levels: list[int], calls: int) -> dict[str, Any]:
    results: dict[str, dict[str, dict[str, float]]] = {name: {} for name in PATHS}
    async with echo_upstream(kind) as upstream, AsyncExitStack() as stack:
        endpoints = {
            name: await stack.enter_async_context(factory(upstream))
            for name, factory in PATHS.items()
        }
        for index, level in enumerate(levels):
            names = list(PATHS) if index % 2 == 0 else list(reversed(PATHS))
            for name in names:
                per_client = max(20, calls // level)
                try:
                    measured = await measure(endpoints[name], level, per_client)
                except Exception as exc:  # one path failing must not lose the others' figures
                    print(f"  {kind:<5} {name:<20} {level:>3} clients failed: {exc}")
                    continue
                results[name][str(level)] = measured
                print(f"  {kind:<5} {name:<20} {level:>3} clients: {results[name][str(level)]}")
    ratios = {
        name: {
            level: {
                **{
                    q: round(values[f"{q}_ms"] / results["direct"][level][f"{q}_ms"], 3)
                    for q in ("p50", "p95", "p99")
                },
                "throughput": round(
                    values["calls_per_s"] / results["direct"][level]["calls_per_s"], 3
                ),
            }
            for level, values in by_level.items()
            if level in results["direct"]
        }
        for name, by_level in results.items()
        if name != "direct"
    }
    return {"paths": results, "ratio_to_direct": ratios}


async def run(levels: list[int], calls: int, upstreams: list[str]) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    by_upstream = {kind: await run_upstream(kind, levels, calls) for kind in upstreams}
    return {
        "benchmark": "gateway_peers",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_1m_before": round(load_before, 2),
            "load_1m_after": round(os.getloadavg()[0], 2),
        },
        "calls_per_level": calls,
        "upstreams": by_upstream,
    }


def table(report: dict[str, Any]) -> str:
    lines = [
        f"{'upstream':<8} {'path':<20} {'clients':>7} {'p50':>8} {'p95':>8} {'p99':>8} "
        f"{'calls/s':>8} {'p50 x':>7} {'p95 x':>7} {'p99 x':>7} {'calls/s x':>9}"
    ]
    for kind, measured in report["upstreams"].items():
        for name, by_level in measured["paths"].items():
            for level, v in by_level.items():
                r = measured["ratio_to_direct"].get(name, {}).get(level, {})
                lines.append(
                    f"{kind:<8} {name:<20} {level:>7} {v['p50_ms']:>8.2f} {v['p95_ms']:>8.2f} "
                    f"{v['p99_ms']:>8.2f} {v['calls_per_s']:>8.0f} {r.get('p50', 1):>6.2f}x "
                    f"{r.get('p95', 1):>6.2f}x {r.get('p99', 1):>6.2f}x "
                    f"{r.get('throughput', 1):>8.2f}x"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,16,64", help="concurrent clients per level")
    parser.add_argument("--calls", type=int, default=640, help="calls per path and level")
    parser.add_argument("--upstreams", default="http,stdio", help="upstream transports")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    report = asyncio.run(run(levels, args.calls, args.upstreams.split(",")))
    print(json.dumps(report, indent=2))
    print(table(report))


if __name__ == "__main__":
    main()
