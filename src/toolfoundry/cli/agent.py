"""`toolfoundry run "QUERY"`: the agent end to end, with the configured model."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from toolfoundry.cli.output import JsonOption, console, open_library, print_json, run, working


@run
async def run_agent(
    query: Annotated[str, typer.Argument(help="The request to complete, in plain language.")],
    scenario: Annotated[str | None, typer.Option(help="Scenario to learn under.")] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=20)] = 5,
    max_tool_calls: Annotated[int, typer.Option(min=1, max=200)] = 20,
    build_missing: Annotated[
        bool, typer.Option("--build-missing", help="Build or reuse MCP servers for gaps first.")
    ] = False,
    mode: Annotated[
        Literal["auto", "retrieval", "llm"],
        typer.Option(help="Discovery mode: auto also asks the model to pick the tools."),
    ] = "auto",
    as_json: bool = JsonOption,
) -> None:
    """Complete a request: discover tools, let the model (TOOLFOUNDRY_LLM_MODEL) call them,
    answer. The run is recorded: `toolfoundry trajectories show ID`.

    toolfoundry run "what are the mean and median of 3, 9 and 27?"
    """
    async with open_library() as library:
        with working("discovering tools and running the model…"):
            result = await library.run_agent(
                query,
                scenario=scenario,
                top_k=top_k,
                max_tool_calls=max_tool_calls,
                build_missing=build_missing,
                discover_mode=mode,
            )
    if as_json:
        print_json(result)
        return
    state = "[green]completed[/]" if result.success else "[yellow]not completed[/]"
    console.print(f"{state} · {result.tool_calls} tool calls · {result.duration_ms:.0f} ms")
    console.print(result.answer, markup=False, highlight=False)
    used = ", ".join(result.tools_used) or "none"
    console.print(f"[dim]tools used: {used} · trajectory {result.trajectory_id}[/]")
