"""`toolfoundry views ...`: virtual servers, named views of the catalog served at /mcp/{name}
(and over stdio with `toolfoundry mcp serve --stdio --view NAME`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from toolfoundry.cli.output import JsonOption, console, fail, print_json, run

if TYPE_CHECKING:
    from toolfoundry.registry.views import VirtualServerStore


@contextlib.asynccontextmanager
async def _store() -> AsyncIterator[VirtualServerStore]:
    # Imported here: the catalog (SQLAlchemy) costs ~0.3 s that `--help` must not pay.
    from toolfoundry.core.settings import get_settings
    from toolfoundry.registry.views import open_view_store

    async with open_view_store(get_settings()) as store:
        yield store


views_app = typer.Typer(
    help="Virtual servers: named views of the catalog, each its own MCP endpoint.",
    no_args_is_help=True,
)


@views_app.command("add")
@run
async def add(
    name: Annotated[str, typer.Argument(help="Lower-case name; the endpoint is /mcp/NAME.")],
    toolkit: Annotated[
        list[str] | None, typer.Option("--toolkit", "-k", help="Include a toolkit's tools.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Include tools with this tag.")
    ] = None,
    tool: Annotated[
        list[str] | None, typer.Option("--tool", help="Include this tool id (toolkit.name).")
    ] = None,
    meta_only: Annotated[
        bool, typer.Option("--meta-only", help="List only discover_tools and call_tool.")
    ] = False,
    builds: Annotated[
        bool, typer.Option("--builds", help="Offer build_tool and build_status.")
    ] = False,
    description: Annotated[str, typer.Option(help="What the view is for.")] = "",
    as_json: bool = JsonOption,
) -> None:
    """Create a view. A tool matching any --toolkit, --tag or --tool is in it; with none of
    them, the whole catalog.

    toolfoundry views add analytics --toolkit stats --tag csv\n
    toolfoundry views add agent --meta-only --builds
    """
    try:
        from toolfoundry.registry.views import VirtualServerSpec

        spec = VirtualServerSpec(
            name=name,
            description=description,
            toolkits=toolkit or [],
            tags=tag or [],
            tools=tool or [],
            meta_only=meta_only,
            allow_builds=builds,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        fail(problems, "Names are 1-63 lower-case letters, digits, '_' or '-'.")
    async with _store() as store:
        view = await store.create(spec)
    if as_json:
        print_json(view)
    else:
        console.print(f"created virtual server {view.name} at {view.endpoint}")


@views_app.command("list")
@run
async def list_views(as_json: bool = JsonOption) -> None:
    """List the views."""
    async with _store() as store:
        views = await store.list()
    if as_json:
        print_json(views)
        return
    table = Table()
    for column in ("name", "endpoint", "toolkits", "tags", "tools", "meta-only", "builds"):
        table.add_column(column)
    for v in views:
        table.add_row(
            v.name,
            v.endpoint,
            ", ".join(v.toolkits),
            ", ".join(v.tags),
            ", ".join(v.tools),
            "yes" if v.meta_only else "no",
            "yes" if v.allow_builds else "no",
        )
    console.print(table)


@views_app.command("remove")
@run
async def remove(name: str) -> None:
    """Remove a view; its endpoint stops answering."""
    async with _store() as store:
        await store.remove(name)
    console.print(f"removed virtual server {name}")
