"""`toolfoundry mcp ...`: the MCP gateway and MCP servers in the catalog."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from toolfoundry.cli.output import (
    JsonOption,
    console,
    err_console,
    fail,
    open_library,
    print_json,
    run,
    working,
)
from toolfoundry.core.errors import ToolfoundryError

if TYPE_CHECKING:
    from toolfoundry.registry.mcp_servers import McpServerInfo

mcp_app = typer.Typer(
    help="MCP: serve the catalog as an MCP server; manage MCP servers.", no_args_is_help=True
)


@mcp_app.command("serve")
@run
async def serve(
    stdio: Annotated[bool, typer.Option("--stdio", help="Serve over stdin/stdout.")] = False,
    meta_only: Annotated[
        bool,
        typer.Option("--meta-only", help="Expose only the meta-tools (discover, call, build)."),
    ] = False,
    dotted_names: Annotated[
        bool,
        typer.Option(
            "--dotted-names",
            help="Keep ids like stats.mean as tool names. By default stdio exposes "
            "stats__mean, the form OpenAI-style clients accept.",
        ),
    ] = False,
    view: Annotated[
        str | None,
        typer.Option("--view", help="Serve this virtual server (`toolfoundry views list`)."),
    ] = None,
) -> None:
    """Serve the whole catalog (or one virtual server, --view) as one MCP server (for Claude
    Desktop, Cursor, agents).

    Over HTTP the gateway already runs inside `toolfoundry serve` at /mcp; use --stdio for
    clients that launch their servers as commands:
    {"mcpServers": {"toolfoundry": {"command": "toolfoundry", "args": ["mcp", "serve", "--stdio"]}}}
    """
    if not stdio:
        fail(
            "only --stdio is served by this command",
            "For HTTP run `toolfoundry serve`; the gateway is at http://HOST:PORT/mcp.",
        )
    os.environ.setdefault("FASTMCP_SHOW_SERVER_BANNER", "false")
    os.environ.setdefault("FASTMCP_CHECK_FOR_UPDATES", "off")
    from toolfoundry.gateway import build_gateway

    async with open_library() as library:
        chosen = await library.views.get(view) if view else None
        gateway = build_gateway(
            library, meta_only=meta_only or None, safe_names=not dotted_names, view=chosen
        )
        await gateway.run_stdio_async(show_banner=False)


def _server_table(servers: list[McpServerInfo]) -> Table:
    table = Table()
    for column in (
        "server",
        "transport",
        "toolkit",
        "state",
        "breaker",
        "tools",
        "latency",
        "error",
    ):
        table.add_column(column)
    for s in servers:
        st = s.status
        table.add_row(
            s.name,
            s.transport,
            s.toolkit,
            st.state if st else "-",
            st.breaker if st else "-",
            str(len(s.tools)),
            f"{st.latency_ms:.1f} ms" if st and st.latency_ms is not None else "-",
            (st.last_error or "")[:60] if st else "",
        )
    return table


def _show(info: McpServerInfo, as_json: bool) -> None:
    if as_json:
        print_json(info)
        return
    console.print(_server_table([info]))
    for tool_id in info.tools:
        console.print(f"  {tool_id}")


@mcp_app.command("add")
@run
async def add(
    name: Annotated[str, typer.Argument(help="Server name; also its toolkit unless --toolkit.")],
    command: Annotated[
        list[str] | None,
        typer.Argument(help="For stdio: the command and its arguments, after `--`."),
    ] = None,
    url: Annotated[str | None, typer.Option(help="For http/sse: the endpoint URL.")] = None,
    transport: Annotated[
        str | None, typer.Option(help="stdio, http or sse (default: from command/url).")
    ] = None,
    toolkit: Annotated[str | None, typer.Option(help="Catalog toolkit for its tools.")] = None,
    env: Annotated[
        list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE for a stdio server.")
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="'Name: value' for http/sse.")
    ] = None,
    as_json: bool = JsonOption,
) -> None:
    """Register an MCP server; its tools join the catalog.

    toolfoundry mcp add time -- uvx mcp-server-time\n
    toolfoundry mcp add docs --url https://example.com/mcp\n
    toolfoundry mcp add legacy --url http://localhost:9000/sse --transport sse
    """
    config: dict[str, object] = {"name": name, "transport": transport, "toolkit": toolkit}
    if command:
        config.update(command=command[0], args=command[1:])
    if url:
        config["url"] = url
    if env:
        config["env"] = dict(_pair(item, "=", "--env") for item in env)
    if header:
        config["headers"] = dict(_pair(item, ":", "--header") for item in header)
    async with open_library() as library:
        with working(f"starting {name} and listing its tools…"):
            info = await library.add_mcp_server({k: v for k, v in config.items() if v})
    if not as_json:
        console.print(f"registered MCP server {info.name} with {len(info.tools)} tools")
    _show(info, as_json)


def _pair(item: str, sep: str, option: str) -> tuple[str, str]:
    key, found, value = item.partition(sep)
    if not found or not key.strip():
        fail(f"{option} {item!r} is not KEY{sep}VALUE", f"Write e.g. {option} 'NAME{sep}value'.")
    return key.strip(), value.strip()


@mcp_app.command("list")
@run
async def list_servers(
    as_json: bool = JsonOption,
    url: Annotated[
        str | None,
        typer.Option(help="The running server to ask (default: http://HOST:PORT of settings)."),
    ] = None,
) -> None:
    """List registered MCP servers with their connection status, as the running server sees
    them; with no server up, the database's view (nothing is connected then)."""
    from toolfoundry.cli.remote import get_from_server, server_url
    from toolfoundry.core.settings import get_settings
    from toolfoundry.registry.mcp_servers import McpServerInfo

    settings = get_settings()
    live = await get_from_server(settings, "/api/v1/mcp-servers", url)
    if live is not None:
        servers = [McpServerInfo.model_validate(item) for item in live]
        source = f"live state from the server at {url or server_url(settings)}"
    else:
        async with open_library() as library:
            servers = await library.list_mcp_servers()
        source = "the database's view: no server is running, so no server is connected"
    if as_json:
        print_json(servers)
    else:
        console.print(_server_table(servers))
        err_console.print(f"[dim]{source}[/]")


@mcp_app.command("show")
@run
async def show(name: str, as_json: bool = JsonOption) -> None:
    """Show one server: config, status and tools."""
    async with open_library() as library:
        info = await library.get_mcp_server(name)
    _show(info, as_json)


@mcp_app.command("remove")
@run
async def remove(name: str) -> None:
    """Unregister a server; its tools leave the catalog."""
    async with open_library() as library:
        removed = await library.remove_mcp_server(name)
    console.print(f"removed {name} and {len(removed)} tools")


@mcp_app.command("refresh")
@run
async def refresh(name: str, as_json: bool = JsonOption) -> None:
    """List a server's tools again (new → added, changed → new version, gone → disabled)."""
    async with open_library() as library:
        info = await library.refresh_mcp_server(name)
    _show(info, as_json)


@mcp_app.command("import")
@run
async def import_file(
    path: Annotated[
        Path, typer.Argument(help="claude_desktop_config.json, mcp.json or server.json")
    ],
    as_json: bool = JsonOption,
) -> None:
    """Register every server of a Claude Desktop / Cursor `mcpServers` file or an MCP Registry
    `server.json`. Each server is tried on its own; failures are reported, not fatal."""
    from toolfoundry.mcp import McpConfigError, load_server_configs

    try:
        configs = load_server_configs(path)
    except McpConfigError as exc:
        fail(str(exc), "Check the file against the Claude Desktop or server.json format.")
    added, failed = [], []
    async with open_library() as library:
        for config in configs:
            with working(f"starting {config.name}…"):
                try:
                    added.append(await library.add_mcp_server(config))
                except ToolfoundryError as exc:
                    failed.append({"name": config.name, "error": exc.detail})
    if as_json:
        print_json({"added": added, "failed": failed})
        return
    for info in added:
        console.print(f"[green]added[/] {info.name}: {len(info.tools)} tools")
    for item in failed:
        console.print(f"[red]failed[/] {item['name']}: {item['error']}")
    if failed:
        raise typer.Exit(1)
