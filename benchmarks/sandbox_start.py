"""What the sealed sandbox costs per launch: `true` and the system Python started plainly and
inside `BubblewrapSandbox` (binds, seccomp launcher, uid lease, setpriv, prlimit), interleaved.

Run: .venv/bin/python benchmarks/sandbox_start.py [--runs 40]
Prints a JSON object and a short table. Needs bubblewrap.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from toolfoundry.builder.stages.sandbox import (
    BubblewrapSandbox,
    Sandbox,
    SandboxSpec,
    UnsandboxedRunner,
)

COMMANDS = {"true": ["true"], "python -c pass": ["/usr/bin/python3", "-c", "pass"]}


async def _time(sandbox: Sandbox, argv: list[str], spec: SandboxSpec) -> float:
    started = time.perf_counter()
    run = await sandbox.run(argv, spec, timeout=60)
    assert run.ok, run.stderr
    return time.perf_counter() - started


async def run(runs: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="tf-bench-sandbox-") as tmp:
        state, work = Path(tmp) / "state", Path(tmp) / "work"
        sealed = BubblewrapSandbox(state_dir=state)
        plain = UnsandboxedRunner()
        spec = SandboxSpec(cwd=work, writable=[work])
        samples: dict[str, list[float]] = {}
        for _ in range(runs):
            for name, argv in COMMANDS.items():
                for label, sandbox in (("plain", plain), ("sealed", sealed)):
                    samples.setdefault(f"{name} · {label}", []).append(
                        await _time(sandbox, argv, spec)
                    )
        lease = []
        for i in range(runs):
            started = time.perf_counter()
            sealed.uid_for(SandboxSpec(cwd=work, writable=[Path(tmp) / f"w{i}"]))
            lease.append(time.perf_counter() - started)
        samples["uid lease (new work dir)"] = lease
    return {
        name: {
            "p50_ms": round(statistics.median(values) * 1000, 2),
            "p95_ms": round(sorted(values)[int(len(values) * 0.95) - 1] * 1000, 2),
        }
        for name, values in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    logging_quiet()
    result = asyncio.run(run(args.runs))
    print(json.dumps(result, indent=2))
    for name, figures in result.items():
        print(f"{name:32} p50 {figures['p50_ms']:8.2f} ms   p95 {figures['p95_ms']:8.2f} ms")
    for name in COMMANDS:
        ratio = result[f"{name} · sealed"]["p50_ms"] / result[f"{name} · plain"]["p50_ms"]
        print(f"{name}: sealed / plain p50 = {ratio:.1f}x")


def logging_quiet() -> None:
    # The unsandboxed runner warns on every launch, which is the point in a service, not here.
    import logging

    logging.getLogger("toolfoundry.builder.stages.sandbox").setLevel(logging.ERROR)


if __name__ == "__main__":
    main()
