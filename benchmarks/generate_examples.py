"""Example requests for every tool of a set, written by the configured model (issue 11, item 4).

Reads a ``tools.jsonl`` in the shared format and writes the same rows with a
``generated_examples`` field (and the tokens and seconds each took) to ``--out``, one tool at a
time, so an interrupted run resumes where it stopped. ``toolfoundry bench discovery --tools OUT``
and ``toolfoundry bench gaps`` then read the examples as the service would.

The model is whatever ``TOOLFOUNDRY_LLM_*`` configures (any OpenAI-compatible endpoint).

Run: .venv/bin/python benchmarks/generate_examples.py --tools T.jsonl --out OUT.jsonl [--limit N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from toolfoundry import Settings
from toolfoundry.discovery.documents import ToolDocument
from toolfoundry.discovery.example_writer import DEFAULT_COUNT, write_examples
from toolfoundry.llm import build_model, describe_model

_FIELDS = set(ToolDocument.model_fields)


async def write_all(todo: list[dict], sink: TextIO, args: argparse.Namespace) -> str:
    """Examples for each row of ``todo``, appended to ``sink`` as they come; the model's name."""
    model = build_model(Settings())
    if model is None:
        raise SystemExit("configure TOOLFOUNDRY_LLM_MODEL (and _BASE_URL, _API_KEY) first")
    console = Console(stderr=True)
    console.print(f"{describe_model(model)}: {len(todo)} tools to go")
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("writing examples", total=len(todo))
        for row in todo:
            doc = ToolDocument.model_validate({k: v for k, v in row.items() if k in _FIELDS})
            started = time.monotonic()
            try:
                written = await asyncio.wait_for(
                    write_examples(model, doc, count=args.count), args.timeout
                )
                extra = {
                    "generated_examples": written.examples,
                    "input_tokens": written.input_tokens,
                    "output_tokens": written.output_tokens,
                }
            except Exception as exc:  # a benchmark records every failure
                extra = {"generated_examples": [], "error": f"{type(exc).__name__}: {exc}"}
            extra["seconds"] = round(time.monotonic() - started, 2)
            sink.write(json.dumps({**row, **extra}, ensure_ascii=False) + "\n")
            sink.flush()
            progress.advance(task)
    return describe_model(model)


def summary(model: str, finished: list[dict]) -> dict:
    seconds = [r["seconds"] for r in finished]
    return {
        "model": model,
        "tools": len(finished),
        "with_examples": sum(bool(r["generated_examples"]) for r in finished),
        "examples_per_tool": round(
            statistics.mean(len(r["generated_examples"]) for r in finished), 2
        ),
        "errors": sum("error" in r for r in finished),
        "input_tokens_mean": round(statistics.mean(r.get("input_tokens", 0) for r in finished)),
        "output_tokens_mean": round(statistics.mean(r.get("output_tokens", 0) for r in finished)),
        "seconds_median": round(statistics.median(seconds), 2),
        "seconds_total": round(sum(seconds), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tools", required=True, help="tools.jsonl in the shared format")
    parser.add_argument("--out", required=True, help="where the rows with examples go")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per tool")
    args = parser.parse_args()
    rows = [json.loads(line) for line in Path(args.tools).read_text().splitlines() if line.strip()]
    out = Path(args.out)
    done = set()
    if out.exists():
        done = {json.loads(line)["id"] for line in out.read_text().splitlines() if line.strip()}
    todo = [r for r in rows[: args.limit] if r["id"] not in done]
    with out.open("a", encoding="utf-8") as sink:
        model = asyncio.run(write_all(todo, sink, args))
    finished = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    print(json.dumps(summary(model, finished), indent=1))


if __name__ == "__main__":
    main()
