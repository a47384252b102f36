"""Time per phase of the Markdown → HTML package-wrapper build through the build service, and the
time to reuse the result (same request: requirement-hash cache; similar request: embedding match
plus an example check against the registered tool).

Run: .venv/bin/python benchmarks/build_service.py [--repeat 5]
Prints a JSON object and a short table. Needs bubblewrap; uv's cache makes the environment warm.
Aims (issue 5): build <= 60 s with a warm uv cache, reuse <= 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import tempfile
import time
from typing import Any

from toolfoundry import Settings, ToolLibrary
from toolfoundry.builder.models import BuildRequirement
from toolfoundry.builder.stages.sandbox import sandbox_available

REQUIREMENT = BuildRequirement(
    description="Convert Markdown text to HTML",
    dependencies=["markdown"],
    examples=["# Hi=><h1>Hi</h1>"],
)
SIMILAR = BuildRequirement(
    description="Render Markdown as HTML",
    dependencies=["markdown"],
    examples=["*x*=><p><em>x</em></p>"],
)


async def run(repeat: int) -> dict[str, Any]:
    status = sandbox_available()
    if not status.available:
        raise SystemExit(f"bubblewrap unusable: {status.reason}")
    with tempfile.TemporaryDirectory(prefix="tf-bench-builds-") as tmp:
        settings = Settings(data_dir=tmp, load_starters=False, embedder="none")
        async with ToolLibrary.open(settings) as library:
            service = await library.builds.start()
            # The reuse embedder loads on first use; load it outside the timings.
            await service.repository.embed(REQUIREMENT)
            started = time.monotonic()
            record = await library.build(REQUIREMENT, budget=600)
            total = time.monotonic() - started
            if record.status != "completed" or record.result is None:
                raise SystemExit(f"build {record.status}: {record.error_message}")
            result = record.result
            exact = [await _timed(library, REQUIREMENT) for _ in range(repeat)]
            similar = [await _timed(library, SIMILAR) for _ in range(repeat)]
    phases = [p.model_dump() for p in result.build_metrics.phases]
    return {
        "machine": f"{platform.node()} {platform.machine()} {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "mode": result.build_metrics.mode,
        "phases": phases,
        "build_s": round(result.build_metrics.duration_s or 0.0, 3),
        "submit_to_registered_s": round(total, 3),
        "queue_wait_s": result.build_metrics.queue_wait_s,
        "reuse_exact_s": {"median": _median(exact), "max": round(max(exact), 4)},
        "reuse_similar_s": {"median": _median(similar), "max": round(max(similar), 4)},
        "tools": result.mcp_asset.tools if result.mcp_asset else [],
    }


async def _timed(library: ToolLibrary, requirement: BuildRequirement) -> float:
    started = time.monotonic()
    record = await library.build(requirement, budget=60)
    elapsed = time.monotonic() - started
    if not record.reused:
        raise SystemExit(f"expected a reuse, got a {record.status} build")
    return elapsed


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="reuse measurements of each kind")
    out = asyncio.run(run(parser.parse_args().repeat))
    print(json.dumps(out, indent=2))
    print(f"\n{'phase':<36}{'seconds':>9}")
    for phase in out["phases"]:
        print(f"{phase['stage']:<36}{phase['seconds']:>9.2f}")
    print(f"{'build total (service)':<36}{out['build_s']:>9.2f}")
    print(f"{'submit → registered':<36}{out['submit_to_registered_s']:>9.2f}")
    print(f"{'reuse, same request (median)':<36}{out['reuse_exact_s']['median']:>9.3f}")
    print(f"{'reuse, similar request (median)':<36}{out['reuse_similar_s']['median']:>9.3f}")


if __name__ == "__main__":
    main()
