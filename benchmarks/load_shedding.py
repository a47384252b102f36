"""REST calls/s and p99 latency at 1, 16, 64 and 256 concurrent clients, without and with load
shedding, against a real `toolfoundry serve` process — all configurations in one run.

Run: .venv/bin/python benchmarks/load_shedding.py [--seconds 6] [--limit 16]

Configurations (one server each, all running; each client count is measured on each in turn):
- `h11/asyncio, no limit`: uvicorn's pure-Python parser and loop (the service before
  httptools/uvloop were dependencies), no in-flight limit;
- `no limit`: the default stack, `TOOLFOUNDRY_MAX_INFLIGHT_REQUESTS=0`;
- `limit N`: `TOOLFOUNDRY_MAX_INFLIGHT_REQUESTS=N`.
With `--impolite`, two more rows at 256 clients that retry a 503 at once instead of waiting
for Retry-After: `limit N` alone and with uvicorn's `TOOLFOUNDRY_LIMIT_CONCURRENCY=4N` (a
fourth server).

The client is wrk (C; `apt-get install wrk`) with benchmarks/load_shedding.lua, one connection
per thread, honouring Retry-After; without wrk, a Python httpx client does the same (slower: on
a small machine it competes with the server for the cores). Successes and 503 answers get
their own p99. Prints a JSON object and a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

CLIENTS = (1, 16, 64, 256)
PATH = "/api/v1/tools/text.text_stats/call"
BODY = {"arguments": {"text": "The quick brown fox jumps over the lazy dog."}}
LUA = Path(__file__).with_suffix(".lua")
# The service as it was served before: uvicorn on h11 and the asyncio loop.
H11_SERVER = (
    "import sys, uvicorn; from toolfoundry.api.app import create_app; "
    "uvicorn.run(create_app(), host='127.0.0.1', port=int(sys.argv[1]), log_level='warning', "
    "http='h11', loop='asyncio')"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    data_dir: Path, port: int, env_extra: dict[str, str], h11: bool
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TOOLFOUNDRY_DATA_DIR": str(data_dir),
        "TOOLFOUNDRY_EMBEDDER": "none",
        "TOOLFOUNDRY_LOG_LEVEL": "WARNING",
        **env_extra,
    }
    bin_dir = Path(sys.executable).parent
    if h11:
        command = [sys.executable, "-c", H11_SERVER, str(port)]
    else:
        command = [str(bin_dir / "toolfoundry"), "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    for _ in range(900):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("toolfoundry serve did not get ready")


def percentile(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return round(ordered[int(q * (len(ordered) - 1))], 1)


def summary(ok: list[float], shed: list[float], other: int, seconds: float) -> dict[str, Any]:
    """Latencies in ms; calls/s counts successes only."""
    return {
        "calls_per_s": round(len(ok) / seconds, 1),
        "p50_ms": percentile(ok, 0.5),
        "p99_ms": percentile(ok, 0.99),
        "shed": len(shed),
        "shed_p50_ms": percentile(shed, 0.5),
        "shed_p99_ms": percentile(shed, 0.99),
        "errors": other,
    }


def wrk_load(
    port: int, clients: int, seconds: float, token: str, polite: bool = True
) -> dict[str, Any]:
    env = {**os.environ, "TF_TOKEN": token, "TF_IGNORE_RETRY_AFTER": "0" if polite else "1"}
    command = [
        "wrk",
        f"-t{clients}",
        f"-c{clients}",
        f"-d{int(seconds)}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}{PATH}",
    ]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    errors = len(data["other_ms"]) + data["socket_errors"]
    row = summary(data["ok_ms"], data["shed_ms"], errors, data["duration_us"] / 1e6)
    row["shed_without_retry_after"] = len(data["shed_ms"]) - data["shed_with_retry_after"]
    return row


async def python_load(port: int, clients: int, seconds: float, token: str) -> dict[str, Any]:
    ok: list[float] = []
    shed: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        limits=limits,
        timeout=60,
        headers={"Authorization": f"Bearer {token}"},
    ) as http:

        async def client() -> None:
            nonlocal errors
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    response = await http.post(PATH, json=BODY)
                except httpx.HTTPError:
                    errors += 1
                    continue
                elapsed = (time.monotonic() - started) * 1000
                if response.status_code == 200:
                    ok.append(elapsed)
                elif response.status_code == 503:
                    shed.append(elapsed)
                    await asyncio.sleep(float(response.headers.get("Retry-After", "0")))
                else:
                    errors += 1

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        wall = time.monotonic() - started
    return summary(ok, shed, errors, wall)


def load(port: int, clients: int, seconds: float, token: str, client: str) -> dict[str, Any]:
    if client == "wrk":
        return wrk_load(port, clients, seconds, token)
    return asyncio.run(python_load(port, clients, seconds, token))


def main(seconds: float, limit: int, impolite: bool, client: str) -> dict[str, Any]:
    """Every configuration's server runs at once (own data directory), and each client count
    is measured on each in turn, so a change in the machine's other load hits all alike."""
    report: dict[str, Any] = {
        "seconds": seconds,
        "limit": limit,
        "client": client,
        "cpus": os.cpu_count(),
        "results": {},
    }
    shed = {"TOOLFOUNDRY_MAX_INFLIGHT_REQUESTS": str(limit)}
    configs: dict[str, tuple[dict[str, str], bool]] = {
        "h11/asyncio, no limit": ({"TOOLFOUNDRY_MAX_INFLIGHT_REQUESTS": "0"}, True),
        "no limit": ({"TOOLFOUNDRY_MAX_INFLIGHT_REQUESTS": "0"}, False),
        f"limit {limit}": (shed, False),
    }
    if impolite and client == "wrk":
        backstop = {**shed, "TOOLFOUNDRY_LIMIT_CONCURRENCY": str(4 * limit)}
        configs[f"limit {limit} + limit_concurrency {4 * limit}"] = (backstop, False)
    roots = {label: Path(tempfile.mkdtemp(prefix="tf-load-")) for label in configs}
    servers: dict[str, tuple[subprocess.Popen[bytes], int, str]] = {}
    try:
        for label, (env_extra, h11) in configs.items():
            port = free_port()
            process = start_server(roots[label], port, env_extra, h11)
            token = (roots[label] / "admin.token").read_text().strip()
            servers[label] = (process, port, token)
            load(port, 4, 2.0, token, client)  # warm-up
        for clients in CLIENTS:
            for label in list(configs)[:3]:
                _, port, token = servers[label]
                report["results"][f"{label}/c{clients}"] = load(
                    port, clients, seconds, token, client
                )
        if impolite and client == "wrk":  # 256 clients that retry a 503 at once
            for label in list(configs)[2:]:
                _, port, token = servers[label]
                report["results"][f"{label}, impolite/c256"] = wrk_load(
                    port, 256, seconds, token, polite=False
                )
    finally:
        for process, _, _ in servers.values():
            process.terminate()
        for process, _, _ in servers.values():
            process.wait(timeout=60)
        for root in roots.values():
            shutil.rmtree(root, ignore_errors=True)
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--limit", type=int, default=16)
    parser.add_argument("--impolite", action="store_true", help="add the Retry-After-ignoring rows")
    parser.add_argument(
        "--client", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python"
    )
    ns = parser.parse_args()
    out = main(ns.seconds, ns.limit, ns.impolite, ns.client)
    print(json.dumps(out, indent=2))
    header = ("case", "calls/s", "p50", "p99", "shed", "shed p50", "shed p99", "errors")
    print(f"\n{header[0]:<58}" + "".join(f"{h:>10}" for h in header[1:]))
    for case, row in out["results"].items():
        cells = (
            row["calls_per_s"],
            row["p50_ms"],
            row["p99_ms"],
            row["shed"],
            row["shed_p50_ms"],
            row["shed_p99_ms"],
            row["errors"],
        )
        print(f"{case:<58}" + "".join(f"{c!s:>10}" for c in cells))
