"""The `toolfoundry` command."""

from __future__ import annotations

import os

# One BLAS thread: a service's many small matrix products are slower with a thread pool that
# competes with the event loop (discovery p95 at 10k tools under load: 27 ms → 10.5 ms).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys

# Function tools are stored as import references (`mytools:to_celsius`). A console script's
# sys.path lacks the working directory, so a module registered from here with `tools add-module`
# would not import in the next command; like `python -m`, look in the working directory too.
if os.getcwd() not in sys.path:
    sys.path.append(os.getcwd())

import logging
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from toolfoundry.cli.agent import run_agent
from toolfoundry.cli.auth import auth_app
from toolfoundry.cli.bench import app as bench_app
from toolfoundry.cli.build import build, builder_app, builds_app
from toolfoundry.cli.discover import discover
from toolfoundry.cli.mcp import mcp_app
from toolfoundry.cli.output import JsonOption, console, err_console, print_json, run
from toolfoundry.cli.tools import toolkits_app, tools_app
from toolfoundry.cli.trajectories import insights, trajectories_app
from toolfoundry.cli.views import views_app

if TYPE_CHECKING:
    from toolfoundry.core.settings import Settings

app = typer.Typer(
    help="toolfoundry: one catalog, one dispatcher and fast discovery for LLM-agent tools.\n\n"
    "Start with `toolfoundry serve`, then `toolfoundry tools list`.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
tools_app.command("insights")(insights)
app.add_typer(tools_app, name="tools")
app.add_typer(trajectories_app, name="trajectories")
app.add_typer(toolkits_app, name="toolkits")
app.add_typer(mcp_app, name="mcp")
app.command("discover")(discover)
app.command("run")(run_agent)
app.command("build")(build)
app.add_typer(builds_app, name="builds")
app.add_typer(builder_app, name="builder")
app.add_typer(bench_app, name="bench")
app.add_typer(auth_app, name="auth")
app.add_typer(views_app, name="views")
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def _version(value: bool) -> None:
    if value:
        from toolfoundry import __version__

        typer.echo(f"toolfoundry {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """toolfoundry: one catalog, one dispatcher and fast discovery for LLM-agent tools."""


app.add_typer(db_app, name="db")
calls_app = typer.Typer(help="The call log.", no_args_is_help=True)
app.add_typer(calls_app, name="calls")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (TOOLFOUNDRY_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (TOOLFOUNDRY_PORT).")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Worker processes (TOOLFOUNDRY_WORKERS).")
    ] = None,
) -> None:
    """Run the REST API (OpenAPI docs at /docs) on the configured catalog."""
    from toolfoundry.cli.serving import bind_settings, on_ready

    settings = bind_settings(host, port)  # refuse an unsafe bind before importing the app

    import uvicorn

    from toolfoundry.api.app import create_app
    from toolfoundry.cli.uvicorn_options import uvicorn_options

    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration step is noise
    workers = workers or settings.workers
    common = uvicorn_options(settings)
    if workers > 1:
        _serve_workers(settings, workers, common)
        return
    started = time.perf_counter()
    app_ = create_app(settings)

    def report() -> None:
        console.print(
            f"toolfoundry ready in {time.perf_counter() - started:.2f}s: "
            f"http://{settings.host}:{settings.port}/ "
            f"(dashboard; API docs at /docs; catalog: {settings.resolved_database_url})"
        )
        _check_sandbox()

    on_ready(app_, report)

    uvicorn.run(app_, **common)  # type: ignore[arg-type]


def _serve_workers(settings: Settings, workers: int, options: dict[str, Any]) -> None:
    """Several worker processes, each building its own app from the environment (uvicorn
    spawns them): the bind address goes there too, so the trusted-Host list and the auth
    checks see the command line's. The catalog is migrated and the admin token written once
    here, before the workers race to do it."""
    import asyncio

    import uvicorn

    from toolfoundry.auth.token_file import admin_token, admin_token_path
    from toolfoundry.store.database import create_engine, upgrade

    os.environ["TOOLFOUNDRY_HOST"] = settings.host
    os.environ["TOOLFOUNDRY_PORT"] = str(settings.port)

    async def prepare() -> None:
        if settings.auth:
            await admin_token(settings)  # migrates the catalog first
            return
        engine = create_engine(settings.resolved_database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    console.print(f"toolfoundry: {workers} workers on http://{settings.host}:{settings.port}/")
    if settings.auth:
        console.print(f"auth: on — admin token in {admin_token_path(settings.data_dir)}")
    uvicorn.run("toolfoundry.api.app:create_app", factory=True, workers=workers, **options)


def _check_sandbox() -> None:
    """Builds (and build_missing) need bubblewrap: say so at start, with the exact fix."""
    from toolfoundry.builder import sandbox_available, sandbox_fix

    status = sandbox_available()
    if not status.available:
        err_console.print(
            f"[yellow]warning:[/] builds will fail: the bubblewrap sandbox is unusable "
            f"({status.reason}); {sandbox_fix(status)}",
            soft_wrap=True,
        )


@db_app.command("upgrade")
@run
async def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations (also done automatically on every start)."""
    from toolfoundry.core.settings import get_settings
    from toolfoundry.store.database import create_engine, current_revision, upgrade

    settings = get_settings()
    engine = create_engine(settings.resolved_database_url)
    try:
        await upgrade(engine, revision)
        console.print(f"database at revision {await current_revision(engine)}")
    finally:
        await engine.dispose()


@calls_app.command("list")
@run
async def list_calls(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    tool: Annotated[str | None, typer.Option(help="Only calls of this tool.")] = None,
    as_json: bool = JsonOption,
) -> None:
    """Recent calls, newest first."""
    from rich.table import Table

    from toolfoundry.cli.catalog import open_catalog

    async with open_catalog() as catalog:
        calls = await catalog.recent_calls(limit, tool)
    if as_json:
        print_json(calls)
        return
    table = Table()
    for column in ("when", "tool", "version", "ms", "ok", "error"):
        table.add_column(column)
    for c in calls:
        table.add_row(
            c.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            c.tool_id,
            c.version,
            f"{c.duration_ms:.1f}",
            "yes" if c.success else "no",
            c.error_type or "",
        )
    console.print(table)
