"""``toolfoundry bench``: benchmarks that run against files, never the user's catalog."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

# Named here so `--help` need not import the embedders (numpy, the model loaders); the
# commands check the choice against the real registry.
_EMBEDDER_NAMES = "minilm, e5, static, none"

app = typer.Typer(help="Benchmarks over files in the shared formats.", no_args_is_help=True)


@app.callback()
def bench() -> None:
    """Benchmarks over files in the shared formats."""


_STAGES = {"index": "Indexing tools", "query": "Running queries"}


@app.command()
def discovery(
    tools: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="tools.jsonl")],
    queries: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="queries.jsonl")],
    k: Annotated[int, typer.Option(min=1, help="Cut-off reported as the main recall.")] = 5,
    limit: Annotated[
        int | None, typer.Option(min=1, help="An evenly spaced sample of N queries.")
    ] = None,
    embedder: Annotated[str, typer.Option(help=f"One of: {_EMBEDDER_NAMES}.")] = "minilm",
    multilingual: Annotated[
        str, typer.Option(help=f"Embedder for Chinese requests; one of: {_EMBEDDER_NAMES}.")
    ] = "e5",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Tool-retrieval quality (Recall@1/5/10, Hit@1, NDCG@5) and per-query latency."""
    from toolfoundry.discovery.bench import run_discovery_benchmark

    _check_embedders(embedder, multilingual)
    with _progress(as_json) as on_progress:
        result = run_discovery_benchmark(
            tools,
            queries,
            k=k,
            limit=limit,
            embedder=embedder,
            multilingual=multilingual,
            on_progress=on_progress,
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"Discovery benchmark — {tools.parent.name or tools.name}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("recall@1", "recall@5", "recall@10", "hit@1", "ndcg@5"):
        style = "bold" if key == f"recall@{k}" else ""
        table.add_row(key, f"{result[key]:.2f}", style=style)
    table.add_row(
        "latency p50 / p95 (ms)", f"{result['latency_ms']['p50']} / {result['latency_ms']['p95']}"
    )
    table.add_row("tools / queries", f"{result['tools']} / {result['queries']}")
    table.add_row("mode / embedder", f"{result['mode']} / {result['embedder']}")
    table.add_row("index build (s)", f"{result['index_build_s']}")
    Console().print(table)


@app.command()
def gaps(
    tools: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="tools.jsonl")],
    queries: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="queries.jsonl")],
    limit: Annotated[
        int | None, typer.Option(min=1, help="An evenly spaced sample of N queries.")
    ] = None,
    embedder: Annotated[str, typer.Option(help=f"One of: {_EMBEDDER_NAMES}.")] = "minilm",
    multilingual: Annotated[
        str, typer.Option(help=f"Embedder for Chinese requests; one of: {_EMBEDDER_NAMES}.")
    ] = "e5",
    min_absence: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Gap model cut (as TOOLFOUNDRY_DISCOVERY_GAP_MIN_ABSENCE); 0 = coverage alone.",
        ),
    ] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Capability-gap detection: a query should get a gap exactly when one of its relevant
    tools is missing from TOOLS. Gap precision / recall / F1, false-gap rate on answerable
    queries, and the share of flagged gaps that name the missing tool's words."""
    from toolfoundry.discovery.gap_bench import run_gap_benchmark

    _check_embedders(embedder, multilingual)
    with _progress(as_json) as on_progress:
        result = run_gap_benchmark(
            tools,
            queries,
            limit=limit,
            embedder=embedder,
            multilingual=multilingual,
            on_progress=on_progress,
            min_absence=min_absence,
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"Gap benchmark — {tools.parent.name or tools.name}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("gap_precision", "gap_recall", "gap_f1", "false_gap_rate", "gap_names_missing"):
        table.add_row(key.replace("_", " "), f"{result[key]:.2f} %")
    table.add_row(
        "queries (should gap / answerable / flagged)",
        f"{result['queries']} ({result['should_gap']} / {result['answerable']} / "
        f"{result['flagged']})",
    )
    table.add_row(
        "latency p50 / p95 (ms)", f"{result['latency_ms']['p50']} / {result['latency_ms']['p95']}"
    )
    Console().print(table)


def _check_embedders(embedder: str, multilingual: str) -> None:
    from toolfoundry.discovery.embedders import EMBEDDERS

    if embedder not in EMBEDDERS:
        raise typer.BadParameter(f"choose one of {', '.join(EMBEDDERS)}", param_hint="--embedder")
    if multilingual not in EMBEDDERS:
        raise typer.BadParameter(
            f"choose one of {', '.join(EMBEDDERS)}", param_hint="--multilingual"
        )


@contextmanager
def _progress(as_json: bool) -> Iterator[Callable[[str, int, int], None]]:
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json and not console.is_terminal,
    ) as progress:
        tasks: dict[str, int] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(_STAGES.get(stage, stage), total=total)
            progress.update(tasks[stage], completed=done)

        yield on_progress
