"""Whole-process CLI start-up: `toolfoundry --help`, `--version` and `tools list`, median of N runs.

    python benchmarks/cli_startup.py [--runs 7] [--compare OTHER_SRC_DIR]

Runs against a temporary data directory whose catalog is created (with the starter toolkits)
before timing. `--compare` times a second source tree (e.g. a checkout of main) in the same
run, interleaved, and prints the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {"--help": ["--help"], "--version": ["--version"], "tools list": ["tools", "list"]}
SRC = Path(__file__).resolve().parents[1] / "src"


def timed(src: Path, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one whole `toolfoundry` process."""
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "toolfoundry", *args],
        env={**env, "PYTHONPATH": str(src)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    wall = time.perf_counter() - start
    after = os.times()
    if done.returncode != 0:
        raise SystemExit(f"{src}: toolfoundry {' '.join(args)} failed: {done.stderr[-500:]!r}")
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--compare", type=Path, help="Another source tree to time alongside.")
    opts = parser.parse_args()
    trees = {"this": SRC} | ({"other": opts.compare.resolve()} if opts.compare else {})
    with tempfile.TemporaryDirectory() as tmp:
        envs = {}
        for tree, src in trees.items():  # one catalog per tree: their schemas may differ
            env = {**os.environ, "TOOLFOUNDRY_DATA_DIR": f"{tmp}/{tree}"}
            env["TOOLFOUNDRY_EMBEDDER"] = "none"
            env.pop("TOOLFOUNDRY_DATABASE_URL", None)
            envs[tree] = env
            timed(src, ["tools", "list"], env)  # create the catalog (migrations, starters)
        samples = {t: {c: [] for c in COMMANDS} for t in trees}
        for _ in range(opts.runs):
            for command, args in COMMANDS.items():
                for tree, src in trees.items():
                    if command == "--version" and tree == "other":
                        continue  # older trees may not have it
                    samples[tree][command].append(timed(src, args, envs[tree]))
    medians = {
        tree: {
            command: {
                "wall_s": round(statistics.median(w for w, _ in v), 3),
                "cpu_s": round(statistics.median(c for _, c in v), 3),
            }
            for command, v in per.items()
            if v
        }
        for tree, per in samples.items()
    }
    print(json.dumps({"runs": opts.runs, "median": medians}, indent=2))
    print(f"\n{'command':<12}{'tree':<8}{'wall s':>9}{'cpu s':>9}")
    for command in COMMANDS:
        for tree in trees:
            m = medians[tree].get(command)
            if m:
                print(f"{command:<12}{tree:<8}{m['wall_s']:>9.3f}{m['cpu_s']:>9.3f}")


if __name__ == "__main__":
    main()
