"""`toolfoundry trajectories ...` and `toolfoundry tools insights`: what agent runs recorded and
what the library learned from them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from toolfoundry.cli.output import JsonOption, console, open_library, print_json, run

trajectories_app = typer.Typer(
    help="Agent runs recorded step by step (POST /api/v1/trajectories, library.trajectory()), "
    "and the tool combinations they used.",
    no_args_is_help=True,
)


@trajectories_app.command("list")
@run
async def list_trajectories(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 20,
    scenario: Annotated[str | None, typer.Option(help="Only runs in this scenario.")] = None,
    success: Annotated[
        bool | None, typer.Option("--succeeded/--failed", help="Only by outcome.")
    ] = None,
    tool: Annotated[str | None, typer.Option(help="Only runs that called this tool.")] = None,
    as_json: bool = JsonOption,
) -> None:
    """List recorded runs, newest first."""
    async with open_library() as library:
        runs = await library.trajectories.list(
            limit=limit, scenario=scenario, success=success, tool_id=tool
        )
    if as_json:
        print_json(runs)
        return
    table = Table()
    for column in ("id", "status", "scenario", "steps", "s", "query"):
        table.add_column(column, overflow="fold" if column == "query" else "ellipsis")
    for r in runs:
        took = f"{r.total_execution_time:.2f}" if r.total_execution_time is not None else "-"
        table.add_row(
            r.trajectory_id,
            r.status,
            r.identified_scenario or "-",
            str(r.total_steps),
            took,
            r.user_query[:80],
        )
    console.print(table)
    console.print(f"[dim]{len(runs)} runs[/]")


@trajectories_app.command("show")
@run
async def show_trajectory(
    trajectory_id: Annotated[str, typer.Argument(help="A run id (tr_...).")],
    as_json: bool = JsonOption,
) -> None:
    """One run with its steps in order."""
    async with open_library() as library:
        trajectory = await library.trajectories.get(trajectory_id)
    if as_json:
        print_json(trajectory)
        return
    console.print(
        f"[bold]{trajectory.trajectory_id}[/] {trajectory.status}  {trajectory.user_query}",
        highlight=False,
    )
    if trajectory.identified_scenario:
        console.print(f"scenario: {trajectory.identified_scenario}")
    table = Table()
    for column in ("#", "step", "tool", "ok", "ms", "error"):
        table.add_column(column)
    for step in trajectory.steps or []:
        ms = f"{step.execution_time * 1000:.1f}" if step.execution_time is not None else "-"
        table.add_row(
            str(step.step_index),
            step.step_type.value,
            step.tool_id or "",
            "yes" if step.success else "no",
            ms,
            step.error_type or "",
        )
    console.print(table)


@trajectories_app.command("combinations")
@run
async def combinations(
    scenario: Annotated[str | None, typer.Option(help="Only runs in this scenario.")] = None,
    min_runs: Annotated[int, typer.Option(min=1, help="Seen in at least this many runs.")] = 2,
    as_json: bool = JsonOption,
) -> None:
    """Tool sequences that runs used together, most proven first."""
    async with open_library() as library:
        found = await library.trajectories.combinations(scenario=scenario, min_runs=min_runs)
    if as_json:
        print_json(found)
        return
    table = Table()
    for column in ("tools", "scenario", "runs", "ok %", "example request"):
        table.add_column(column, overflow="fold")
    for c in found:
        table.add_row(
            " → ".join(c.tools),
            c.scenario or "-",
            str(c.runs),
            f"{c.success_rate * 100:.0f}",
            c.example_request[:80],
        )
    console.print(table)


@trajectories_app.command("prune")
@run
async def prune(
    older_than_days: Annotated[
        float, typer.Option(min=0.0, help="Delete finished runs started longer ago than this.")
    ],
    as_json: bool = JsonOption,
) -> None:
    """Delete old finished runs and their steps (retention). Tool metrics keep what they taught.

    toolfoundry trajectories prune --older-than-days 90
    """
    async with open_library() as library:
        deleted = await library.trajectories.prune(older_than_days)
    if as_json:
        print_json({"deleted": deleted})
    else:
        console.print(f"deleted {deleted} finished runs older than {older_than_days:g} days")


@run
async def insights(
    tool_id: Annotated[str, typer.Argument(help="A toolkit.tool id.")],
    as_json: bool = JsonOption,
) -> None:
    """What usage taught about a tool: success by scenario, common errors, requests it served,
    tools used with it, and the notes `tools describe --learned` adds for a model."""
    async with open_library() as library:
        found = await library.tool_insights(tool_id)
    if as_json:
        print_json(found)
        return
    rate = f"{found.call_success_rate:.0%}" if found.call_success_rate is not None else "-"
    run_rate = f"{found.run_success_rate:.0%}" if found.run_success_rate is not None else "-"
    console.print(
        f"[bold]{found.tool_id}[/]  calls {found.calls} (ok {rate})  runs {found.runs} "
        f"(ok {run_rate})  effectiveness {found.effectiveness_score:.2f}"
    )
    for note in found.notes or ["No usage recorded yet."]:
        console.print(f"- {note}", markup=False, highlight=False)
