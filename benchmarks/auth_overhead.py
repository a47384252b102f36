"""What authentication costs per REST request: GET /api/v1/tools/{id} on live uvicorn servers
with auth off, on (verified tokens cached, the default) and on with no cache (a database
lookup per request), measured interleaved in one run.

Run: .venv/bin/python benchmarks/auth_overhead.py [--requests 3000]
Prints a JSON object and a short table. Timings of one run are compared as ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from toolfoundry import Settings, ToolLibrary
from toolfoundry.api.app import create_app
from toolfoundry.auth import Authenticator, admin_token, open_token_store

PATH = "/api/v1/tools/bench.echo"


def echo(x: int) -> int:
    """Return x."""
    return x


async def register_echo(settings: Settings) -> None:
    async with ToolLibrary.open(settings) as library:
        await library.register(echo, toolkit="bench")


async def time_authenticate(settings: Settings, n: int) -> dict[str, float]:
    """The middleware's own work, in process: a cached verification, and one that asks the
    database (cache off)."""
    secret = await admin_token(settings)
    async with open_token_store(settings) as store:
        result = {}
        for label, cache in (("cached", 60.0), ("database", 0.0)):
            authenticator = Authenticator(store, cache_seconds=cache)
            await authenticator.authenticate(secret)
            samples = []
            for _ in range(n):
                start = time.perf_counter_ns()
                await authenticator.authenticate(secret)
                samples.append((time.perf_counter_ns() - start) / 1000)
            result[f"authenticate_{label}_p50_us"] = round(percentile(samples, 0.5), 1)
        return result


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The app under uvicorn in a thread, with one keep-alive client."""

    def __init__(self, settings: Settings) -> None:
        asyncio.run(register_echo(settings))  # before the app starts: it loads the catalog
        self.settings = settings
        port = free_port()
        self.app = create_app(settings)
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        headers = {}
        if settings.auth:
            headers["Authorization"] = f"Bearer {asyncio.run(admin_token(settings))}"
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers)

    def start(self) -> None:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)

    def get(self) -> float:
        start = time.perf_counter_ns()
        response = self.client.get(PATH)
        elapsed = (time.perf_counter_ns() - start) / 1000
        assert response.status_code == 200, response.text
        return elapsed

    def stop(self) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000, help="Per configuration.")
    parser.add_argument("--round", type=int, default=50, help="Requests per turn.")
    args = parser.parse_args()
    configs = {"off": {"auth": False}, "on": {}, "on_no_cache": {"auth_cache_seconds": 0}}
    with tempfile.TemporaryDirectory() as tmp:
        servers = {}
        for name, overrides in configs.items():
            data = Path(tmp) / name
            settings = Settings(data_dir=data, load_starters=False, embedder="none", **overrides)
            servers[name] = LiveServer(settings)
        for server in servers.values():
            server.start()
        for server in servers.values():  # warm-up: connections, caches, first token use
            for _ in range(200):
                server.get()
        samples: dict[str, list[float]] = {name: [] for name in servers}
        # Interleaved turns, so drift on a shared machine hits every configuration alike.
        while len(samples["off"]) < args.requests:
            for name, server in servers.items():
                samples[name] += [server.get() for _ in range(args.round)]
        for server in servers.values():
            server.stop()
        in_process = asyncio.run(time_authenticate(servers["on"].settings, args.requests))

    stats = {
        name: {"p50_us": percentile(s, 0.5), "p95_us": percentile(s, 0.95)}
        for name, s in samples.items()
    }
    off = stats["off"]
    result = {
        "benchmark": "auth_overhead",
        "request": f"GET {PATH}",
        "requests_per_config": args.requests,
        "python": platform.python_version(),
        "configs": stats,
        "p50_added_us": {k: round(v["p50_us"] - off["p50_us"], 1) for k, v in stats.items()},
        "p50_ratio_to_off": {k: round(v["p50_us"] / off["p50_us"], 3) for k, v in stats.items()},
        "p95_ratio_to_off": {k: round(v["p95_us"] / off["p95_us"], 3) for k, v in stats.items()},
        **in_process,
    }
    print(json.dumps(result, indent=2))
    print(f"\n{'auth':<12}{'p50 µs':>10}{'p95 µs':>10}{'p50 ratio':>11}")
    for name, s in stats.items():
        ratio = result["p50_ratio_to_off"][name]
        print(f"{name:<12}{s['p50_us']:>10.0f}{s['p95_us']:>10.0f}{ratio:>11.3f}")
    print(
        f"authenticate() in process: cached {in_process['authenticate_cached_p50_us']} µs, "
        f"database {in_process['authenticate_database_p50_us']} µs (p50)"
    )


if __name__ == "__main__":
    main()
