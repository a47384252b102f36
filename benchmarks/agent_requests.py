"""The agent on a real model: answer accuracy over the starter toolkits.

`benchmarks/data/agent_requests.jsonl` holds 23 requests with known answers (numbers, dates, text,
tables). Each goes through `ToolLibrary.run_agent` — discovery, the model calling tools through
the dispatcher, the recorded trajectory — exactly as `toolfoundry run` does. An answer is right
when every expected piece appears in it (numbers compared with a 0.1 % tolerance, text
case-insensitively). Also reported: tool-call validity (calls the dispatcher accepted), calls and
repeated identical calls per request, and time.

The model is whatever `TOOLFOUNDRY_LLM_*` configures (any OpenAI-compatible endpoint).

Run: .venv/bin/python benchmarks/agent_requests.py [--limit N] [--kind KIND]... [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from toolfoundry import Settings, ToolLibrary
from toolfoundry.llm import describe_model

DATA = Path(__file__).parent / "data" / "agent_requests.jsonl"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def answer_matches(answer: str, expected: list[str]) -> bool:
    """Every expected piece is in the answer: numbers within 0.1 %, text case-insensitively."""
    text = answer.lower()
    numbers = [float(n) for n in _NUMBER.findall(answer.replace(",", ""))]
    for piece in expected:
        if _NUMBER.fullmatch(piece):
            value = float(piece)
            if not any(abs(n - value) <= 1e-3 * max(1.0, abs(value)) for n in numbers):
                return False
        elif piece.lower() not in text:
            return False
    return True


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if not args.kind or r["kind"] in args.kind][: args.limit]
    results = []
    with tempfile.TemporaryDirectory(prefix="tf-agent-bench-") as tmp:
        settings = Settings(data_dir=tmp)
        if not settings.llm_model:
            raise SystemExit("configure TOOLFOUNDRY_LLM_MODEL (and _BASE_URL, _API_KEY) first")
        async with ToolLibrary.open(settings) as library:
            assert library.llm is not None
            model = describe_model(library.llm)
            for row in rows:
                started = time.monotonic()
                try:
                    result = await library.run_agent(row["query"], discover_mode=args.discover)
                    outcome = {
                        "answer": result.answer[:300],
                        "completed": result.success,
                        "calls": result.tool_calls,
                        "invalid_calls": getattr(result, "invalid_tool_calls", None),
                        "repeated_calls": getattr(result, "repeated_tool_calls", None),
                        "tools_used": result.tools_used,
                        "error": None,
                    }
                except Exception as exc:  # a failed run is a result of this benchmark
                    outcome = {
                        "answer": "",
                        "completed": False,
                        "calls": 0,
                        "invalid_calls": None,
                        "repeated_calls": None,
                        "tools_used": [],
                        "error": f"{type(exc).__name__}: {exc}"[:300],
                    }
                outcome |= {
                    "query": row["query"][:80],
                    "kind": row["kind"],
                    "right": answer_matches(outcome["answer"], row["expected"]),
                    "seconds": round(time.monotonic() - started, 1),
                }
                results.append(outcome)
                print(json.dumps(outcome, ensure_ascii=False), flush=True)
                if args.out:
                    text = json.dumps(results, indent=1, ensure_ascii=False)
                    await asyncio.to_thread(Path(args.out).write_text, text)
    calls = sum(r["calls"] for r in results)
    invalid = sum(r["invalid_calls"] or 0 for r in results)
    seconds = sorted(r["seconds"] for r in results)
    return {
        "benchmark": "agent_requests",
        "model": model,
        "discover_mode": args.discover,
        "machine": f"{platform.machine()} Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "requests": len(results),
        "accuracy": round(sum(r["right"] for r in results) / len(results), 3),
        "completed_rate": round(sum(r["completed"] for r in results) / len(results), 3),
        "errors": sum(r["error"] is not None for r in results),
        "calls_per_request": round(calls / len(results), 2),
        "valid_call_rate": round(1 - invalid / calls, 3) if calls else None,
        "repeated_calls": sum(r["repeated_calls"] or 0 for r in results),
        "median_s": round(statistics.median(seconds), 1),
        "p95_s": seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))],
        "by_kind": {
            kind: f"{sum(r['right'] for r in results if r['kind'] == kind)}/"
            f"{sum(r['kind'] == kind for r in results)}"
            for kind in sorted({r["kind"] for r in results})
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--kind", action="append")
    parser.add_argument("--discover", default="auto", choices=["auto", "llm", "retrieval"])
    parser.add_argument("--out", help="write the rows here as they finish")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
