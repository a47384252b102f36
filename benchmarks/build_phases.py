"""Time per phase of the no-model package-wrapper build of the Markdown → HTML server.

Phases: environment with an empty uv cache (cold) and again with that cache (warm), introspection
alone, the wrapper (introspect + rank + probe the examples in the sandbox + generate), the security
scan and the sandboxed validation (MCP handshake, tools/list, generated tests, examples).

Run: .venv/bin/python benchmarks/build_phases.py [--skip-cold]
Prints a JSON object and a short table. Needs bubblewrap and access to the package index.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import tempfile
import time
from pathlib import Path

from toolfoundry.builder.models import BuildRequirement, StageTiming
from toolfoundry.builder.stages.environment import BuildEnvironment
from toolfoundry.builder.stages.sandbox import BubblewrapSandbox, sandbox_available
from toolfoundry.builder.stages.scanner import scan
from toolfoundry.builder.stages.validator import validate
from toolfoundry.builder.strategies.wrap.introspect import introspect
from toolfoundry.builder.strategies.wrap.wrapper import PackageWrapper

REQUIREMENT = BuildRequirement(
    description="Convert Markdown text to HTML",
    dependencies=["markdown"],
    examples=["# Hi=><h1>Hi</h1>"],
)


async def run(skip_cold: bool) -> dict:
    status = sandbox_available()
    if not status.available:
        raise SystemExit(f"bubblewrap unusable: {status.reason}")
    timings: list[StageTiming] = []
    with tempfile.TemporaryDirectory(prefix="tf-bench-") as tmp:
        root = Path(tmp)
        if not skip_cold:
            cold = BuildEnvironment(cache_dir=root / "uv-cache")
            started = time.monotonic()
            await cold.create(root / "cold" / "venv", REQUIREMENT)
            timings.append(StageTiming(stage="environment (cold cache)", seconds=_since(started)))
        # Warm: the cache the cold run filled, or uv's default cache when the cold run is skipped.
        warm = BuildEnvironment(cache_dir=None if skip_cold else root / "uv-cache")
        build_dir = root / "build"
        started = time.monotonic()
        env = await warm.create(build_dir / "venv", REQUIREMENT)
        timings.append(
            StageTiming(
                stage="environment (warm cache)",
                seconds=_since(started),
                detail=f"{len(env.packages)} packages",
            )
        )

        started = time.monotonic()
        candidates = introspect("markdown", env.site_packages)
        timings.append(
            StageTiming(
                stage="introspect (griffe)",
                seconds=_since(started),
                detail=f"{len(candidates)} functions",
            )
        )

        sandbox = BubblewrapSandbox()
        started = time.monotonic()
        wrapped = await PackageWrapper().build(REQUIREMENT, env, sandbox, build_dir)
        timings.append(
            StageTiming(
                stage="wrap (introspect+rank+probe+generate)",
                seconds=_since(started),
                detail=", ".join(t.candidate.path for t in wrapped.tools),
            )
        )

        started = time.monotonic()
        report = scan(wrapped.files.files)
        timings.append(
            StageTiming(
                stage="security scan (AST + bandit)",
                seconds=_since(started),
                detail=f"{len(report.findings)} findings, passed={report.passed}",
            )
        )

        server_dir = build_dir / "server"
        wrapped.files.write_to(server_dir)
        started = time.monotonic()
        validation = await validate(server_dir, env, sandbox, REQUIREMENT)
        timings.append(
            StageTiming(
                stage="validate (sandboxed)",
                seconds=_since(started),
                detail=f"passed={validation.passed}",
            )
        )
    pipeline = [t for t in timings if t.stage != "introspect (griffe)" and "cold" not in t.stage]
    return {
        "machine": f"{platform.node()} {platform.machine()} {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "phases": [t.model_dump() for t in timings],
        "warm_build_total_s": round(sum(t.seconds for t in pipeline), 3),
        "validation_passed": validation.passed,
    }


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--skip-cold", action="store_true", help="do not download into a fresh cache"
    )
    args = parser.parse_args()
    out = asyncio.run(run(args.skip_cold))
    print(json.dumps(out, indent=2))
    print(f"\n{'phase':<42}{'seconds':>9}  detail")
    for phase in out["phases"]:
        print(f"{phase['stage']:<42}{phase['seconds']:>9.2f}  {phase['detail'] or ''}")
    print(f"{'warm build total':<42}{out['warm_build_total_s']:>9.2f}")


if __name__ == "__main__":
    main()
