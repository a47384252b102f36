"""`toolfoundry build`, `toolfoundry builds ...` and `toolfoundry builder serve`."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from toolfoundry.cli.output import (
    JsonOption,
    console,
    err_console,
    fail,
    open_library,
    print_json,
    run,
)

if TYPE_CHECKING:
    from toolfoundry.builder import BuildRecord, BuildService

builds_app = typer.Typer(help="Builds of MCP servers: list, show, cancel.", no_args_is_help=True)
builder_app = typer.Typer(help="The MCP build service.", no_args_is_help=True)

_LOG_LINES = 8


@run
async def build(
    description: Annotated[str, typer.Argument(help="The capability to build, in a sentence.")],
    dependency: Annotated[
        list[str] | None,
        typer.Option("--dependency", "-d", help="A PyPI requirement (repeatable)."),
    ] = None,
    example: Annotated[
        list[str] | None,
        typer.Option("--example", "-e", help="'INPUT=>EXPECTED' (repeatable)."),
    ] = None,
    spec: Annotated[
        list[str] | None, typer.Option("--spec", help="A technical spec (repeatable).")
    ] = None,
    constraint: Annotated[
        list[str] | None, typer.Option("--constraint", help="A constraint (repeatable).")
    ] = None,
    network: Annotated[
        bool, typer.Option("--network", help="Let the built server use the network.")
    ] = False,
    priority: Annotated[str, typer.Option(help="high, medium or low.")] = "medium",
    timeout: Annotated[  # noqa: ASYNC109 - the build's own timeout, passed on
        float, typer.Option(help="Seconds for the whole build (at most 3600).")
    ] = 600.0,
    as_json: bool = JsonOption,
) -> None:
    """Build an MCP server for a capability in this process, register it and show progress.

    toolfoundry build "Convert Markdown text to HTML" -d markdown -e '# Hi=><h1>Hi</h1>'
    """
    from pydantic import ValidationError

    from toolfoundry.builder import BuildRequest

    try:
        request = BuildRequest.model_validate(
            {
                "requirement": {
                    "description": description,
                    "dependencies": dependency or [],
                    "examples": example or [],
                    "technical_specs": spec or [],
                    "constraints": constraint or [],
                    "network": network,
                },
                "priority": priority,
                "timeout": timeout,
            }
        )
    except ValidationError as exc:
        fail(
            "; ".join(
                f"{'.'.join(map(str, e['loc'][1:] or e['loc']))}: {e['msg']}" for e in exc.errors()
            ),
            "Examples are 'INPUT=>EXPECTED'; priority is high, medium or low; "
            "timeout is at most 3600.",
        )
    logging.basicConfig(level=logging.WARNING)
    from toolfoundry.builder import sandbox_available, sandbox_fix

    sandbox = sandbox_available()
    if not sandbox.available:
        fail(f"builds need the bubblewrap sandbox: {sandbox.reason}", sandbox_fix(sandbox))
    async with open_library() as library:
        service = await library.builds.start()
        record = await service.submit(request)
        if as_json:
            record = await service.wait(record.id)
        else:
            record = await _follow(service, record)
        result = await service.result(record.id) if record.finished else None
    if as_json:
        print_json(result if result is not None else record)
    else:
        _report(record)
    if record.status != "completed":
        raise typer.Exit(1)


async def _follow(service: BuildService, record: BuildRecord) -> BuildRecord:
    """A live view of the build: status and phase, a progress bar and the latest log lines;
    without a terminal, one line per phase."""
    if not console.is_terminal:
        return await _follow_lines(service, record)
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    task = bar.add_task(record.current_phase, total=1.0)
    lines: list[str] = []
    header = Text(f"build {record.id}")

    def view() -> Group:
        return Group(header, bar, Text("\n".join(lines[-_LOG_LINES:]), style="dim"))

    with Live(view(), console=console, refresh_per_second=8, transient=True) as live:
        async with contextlib.aclosing(service.watch(record.id)) as events:
            async for event in events:
                header.plain = f"build {record.id} · {event.status} · {event.phase}"
                bar.update(task, completed=event.progress, description=event.phase)
                if event.type == "log" and event.message:
                    lines.append(event.message[:160])
                live.update(view())
    return await service.get(record.id)


async def _follow_lines(service: BuildService, record: BuildRecord) -> BuildRecord:
    """Progress for logs and pipes: a line whenever the status or phase changes."""
    started = time.perf_counter()
    last: tuple[str, str] | None = None
    err_console.print(f"build {record.id} queued", highlight=False)
    async with contextlib.aclosing(service.watch(record.id)) as events:
        async for event in events:
            if (event.status, event.phase) != last:
                last = (event.status, event.phase)
                err_console.print(
                    f"[{time.perf_counter() - started:6.1f}s] build {record.id} · {event.status} "
                    f"· {event.phase} ({event.progress:.0%})",
                    highlight=False,
                    soft_wrap=True,
                )
    return await service.get(record.id)


def _report(record: BuildRecord) -> None:
    result = record.result
    if record.status == "completed" and result is not None and result.mcp_asset is not None:
        asset = result.mcp_asset
        metrics = result.build_metrics
        if record.reused:
            console.print(
                f"[green]reused[/] asset {asset.id} ({metrics.match} match, similarity "
                f"{metrics.similarity:.2f}) in {metrics.duration_s:.2f}s — no new build"
            )
        else:
            console.print(
                f"[green]built[/] {asset.server_name} in {metrics.duration_s:.1f}s ({metrics.mode})"
            )
            table = Table("phase", "seconds")
            for phase in metrics.phases:
                table.add_row(phase.stage, f"{phase.seconds:.2f}")
            console.print(table)
        sandbox = asset.launch.get("sandbox", "?")
        network = "granted" if asset.network else "none"
        console.print(f"server {asset.server_name} · sandbox {sandbox} · network {network}")
        for tool_id in asset.tools:
            console.print(
                f"  tool [bold]{tool_id}[/]  →  toolfoundry tools call {tool_id} '{{...}}'"
            )
        return
    if record.status == "cancelled":
        fail(f"build {record.id} was cancelled")
    fail(
        f"build {record.id} {record.status}: {record.error_message}",
        f"See the full log with `toolfoundry builds show {record.id}`.",
    )


@builds_app.command("list")
@run
async def list_builds(
    status: Annotated[str | None, typer.Option(help="Only builds with this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    as_json: bool = JsonOption,
) -> None:
    """Builds, newest first."""
    from toolfoundry.builder import BuildStatus

    if status is not None and status not in BuildStatus.__args__:  # type: ignore[attr-defined]
        fail(f"unknown status {status!r}", f"Use one of {', '.join(BuildStatus.__args__)}.")  # type: ignore[attr-defined]
    async with open_library() as library:
        records = await library.builds.list(status, limit)  # type: ignore[arg-type]
    if as_json:
        print_json(records)
        return
    table = Table("build", "status", "priority", "phase", "progress", "created", "description")
    for r in records:
        table.add_row(
            r.id,
            r.status + (" (reused)" if r.reused else ""),
            r.priority,
            r.current_phase,
            f"{r.progress:.0%}",
            r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.requirement.description[:50],
        )
    console.print(table)


@builds_app.command("show")
@run
async def show_build(
    build_id: Annotated[str, typer.Argument(help="The build id (bld_…).")],
    as_json: bool = JsonOption,
) -> None:
    """A build's request, status, log and result."""
    async with open_library() as library:
        record = await library.builds.get(build_id)
    if as_json:
        print_json(record)
        return
    console.print(
        f"[bold]{record.id}[/] {record.status} · {record.current_phase} · "
        f"{record.progress:.0%} · attempts {record.attempts}"
    )
    console.print(f"requirement: {json.dumps(record.requirement.model_dump(mode='json'))}")
    if record.error_message:
        console.print(f"[red]error[/] ({record.failure_type}): {record.error_message}")
    if record.result is not None and record.result.mcp_asset is not None:
        asset = record.result.mcp_asset
        console.print(
            f"asset {asset.id}: server {asset.server_name}, tools {', '.join(asset.tools)}"
        )
    console.print("log:")
    for line in record.logs[-40:]:
        console.print(f"  {line}", markup=False, highlight=False)


@builds_app.command("cancel")
@run
async def cancel_build(
    build_id: Annotated[str, typer.Argument(help="The build id (bld_…).")],
) -> None:
    """Cancel a queued build, or stop a running one (in this or another process)."""
    async with open_library() as library:
        record = await library.builds.cancel(build_id)
    if record.status == "cancelled":
        console.print(f"{record.id}: cancelled")
    else:
        console.print(f"{record.id}: cancellation requested; its worker stops it within seconds")


@builder_app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (TOOLFOUNDRY_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (TOOLFOUNDRY_PORT).")] = None,
) -> None:
    """Run the build service alone: /api/v1/build*, /health, /metrics (docs at /docs)."""
    from toolfoundry.cli.serving import bind_settings, on_ready

    settings = bind_settings(host, port)  # refuse an unsafe bind before importing anything

    import uvicorn

    from toolfoundry.api.app import create_builder_app
    from toolfoundry.cli.uvicorn_options import uvicorn_options

    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    app_ = create_builder_app(settings)
    on_ready(
        app_,
        lambda: console.print(
            f"toolfoundry builder on http://{settings.host}:{settings.port}/docs "
            f"({settings.max_concurrent_builds} concurrent builds)"
        ),
    )

    uvicorn.run(app_, **uvicorn_options(settings))
