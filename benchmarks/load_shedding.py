"""REST calls/s and p99 latency at 1, 16, 64 and 256 concurrent clients, without and with load
shedding (`TOOLFOUNDRY_MAX_INFLIGHT_REQUESTS`), against a real `toolfoundry serve` process.

Run: .venv/bin/python benchmarks/load_shedding.py [--seconds 8] [--limit 32]
Both configurations are measured in one run (the server is restarted with the limit toggled);
clients honour Retry-After. Prints a JSON object and a short table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

CLIENTS = (1, 16, 64, 256)
URL = "/api/v1/tools/text.text_stats/call"
BODY = {"arguments": {"text": "The quick brown fox jumps over the lazy dog."}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, port: int, limit: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TOOLFOUNDRY_DATA_DIR": str(data_dir),
        "TOOLFOUNDRY_EMBEDDER": "none",
        "TOOLFOUNDRY_LOG_LEVEL": "WARNING",
        "TOOLFOUNDRY_MAX_INFLIGHT_REQUESTS": str(limit),
    }
    command = [str(Path(sys.executable).parent / "toolfoundry"), "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    for _ in range(900):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("toolfoundry serve did not get ready")


def p99(samples: list[float]) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 1)


async def load(port: int, clients: int, seconds: float) -> dict[str, Any]:
    ok: list[float] = []
    shed: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as http:

        async def client() -> None:
            nonlocal errors
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    response = await http.post(URL, json=BODY)
                except httpx.HTTPError:
                    errors += 1
                    continue
                elapsed = time.monotonic() - started
                if response.status_code == 200:
                    ok.append(elapsed)
                elif response.status_code == 503:
                    shed.append(elapsed)
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                else:
                    errors += 1

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        wall = time.monotonic() - started
    return {
        "calls_per_s": round(len(ok) / wall, 1),
        "p99_ms": p99(ok),
        "shed": len(shed),
        "shed_p99_ms": p99(shed),
        "errors": errors,
    }


def main(seconds: float, limit: int) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="tf-load-"))
    report: dict[str, Any] = {"seconds": seconds, "limit": limit, "results": {}}
    for label, value in (("no limit", 0), (f"limit {limit}", limit)):
        port = free_port()
        server = start_server(data_dir, port, value)
        try:
            asyncio.run(load(port, 4, 2.0))  # warm-up
            for clients in CLIENTS:
                report["results"][f"{label}/c{clients}"] = asyncio.run(load(port, clients, seconds))
        finally:
            server.terminate()
            server.wait(timeout=60)
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--limit", type=int, default=32)
    ns = parser.parse_args()
    out = main(ns.seconds, ns.limit)
    print(json.dumps(out, indent=2))
    print(f"\n{'case':<20}{'calls/s':>10}{'p99 ms':>10}{'shed':>8}{'shed p99':>10}{'errors':>8}")
    for case, row in out["results"].items():
        print(
            f"{case:<20}{row['calls_per_s']:>10}{row['p99_ms']!s:>10}{row['shed']:>8}"
            f"{row['shed_p99_ms']!s:>10}{row['errors']:>8}"
        )
