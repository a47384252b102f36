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


def timed(src: Path, args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "toolfoundry", *args],
        env={**env, "PYTHONPATH": str(src)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--compare", type=Path, help="Another source tree to time alongside.")
    opts = parser.parse_args()
    trees = {"this": SRC} | ({"other": opts.compare.resolve()} if opts.compare else {})
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "TOOLFOUNDRY_DATA_DIR": data_dir, "TOOLFOUNDRY_EMBEDDER": "none"}
        env.pop("TOOLFOUNDRY_DATABASE_URL", None)
        for src in trees.values():  # create the catalog (migrations, starters) and warm caches
            timed(src, ["tools", "list"], env)
        samples: dict[str, dict[str, list[float]]] = {t: {c: [] for c in COMMANDS} for t in trees}
        for _ in range(opts.runs):
            for command, args in COMMANDS.items():
                for tree, src in trees.items():
                    samples[tree][command].append(timed(src, args, env))
    medians = {
        tree: {command: round(statistics.median(v), 3) for command, v in per.items()}
        for tree, per in samples.items()
    }
    print(json.dumps({"runs": opts.runs, "median_s": medians}, indent=2))
    header = f"\n{'command':<12}" + "".join(f"{t:>10}" for t in trees)
    print(header + ("   ratio" if opts.compare else ""))
    for command in COMMANDS:
        row = f"{command:<12}" + "".join(f"{medians[t][command]:>10.3f}" for t in trees)
        if opts.compare:
            row += f"   {medians['other'][command] / medians['this'][command]:.1f}x"
        print(row)


if __name__ == "__main__":
    main()
