"""`toolfoundry discover "QUERY"`."""

from __future__ import annotations

from typing import Annotated, Literal

import typer
from rich.table import Table

from toolfoundry.cli.output import JsonOption, console, open_library, print_json, run, working


@run
async def discover(
    query: Annotated[str, typer.Argument(help="What the agent must do, in plain language.")],
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=50)] = 5,
    toolkit: Annotated[
        list[str] | None, typer.Option("--toolkit", "-t", help="Only these toolkits.")
    ] = None,
    mode: Annotated[
        Literal["auto", "retrieval", "llm"],
        typer.Option(help="auto uses a model when one is configured."),
    ] = "auto",
    as_json: bool = JsonOption,
) -> None:
    """Find the tools for a request: ranked tools, a plan, and capability gaps.

    toolfoundry discover "read sales.xlsx and compute the mean of the amount column"
    """
    async with open_library() as library:
        with working("indexing the catalog…"):
            await library.discovery.wait_ready()  # type: ignore[union-attr]
        result = await library.discover(query, top_k=top_k, toolkits=toolkit, mode=mode)
    if as_json:
        print_json(result)
        return
    table = Table(
        title=f"{result.mode} · coverage {result.coverage:.2f} · {result.latency_ms:.0f} ms"
    )
    for column in ("#", "tool", "score", "serves", "description"):
        table.add_column(column, overflow="fold" if column == "description" else "ellipsis")
    for i, tool in enumerate(result.tools, 1):
        serves = ", ".join(
            result.analysis.subtasks[j] for j in tool.covers if j < len(result.analysis.subtasks)
        )
        table.add_row(str(i), tool.id, f"{tool.score:.3f}", serves, tool.description[:70])
    console.print(table)
    for step in result.tool_filtering.execution_plan.steps:
        console.print(f"  step {step.order}: {step.tool} — {step.purpose}")
    for gap in result.gaps:
        console.print(
            f"[yellow]gap[/] ({gap.coverage:.2f}): {gap.description} "
            f"[dim]needs: {', '.join(gap.technical_requirements)}[/]"
        )
    if result.fallback_reason:
        console.print(f"[dim]model not used: {result.fallback_reason}[/]")
