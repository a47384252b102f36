"""`toolfoundry mcp ...`: the MCP gateway and MCP servers in the catalog."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from toolfoundry.cli.output import fail, run

mcp_app = typer.Typer(
    help="MCP: serve the catalog as an MCP server; manage MCP servers.", no_args_is_help=True
)


@mcp_app.command("serve")
@run
async def serve(
    stdio: Annotated[bool, typer.Option("--stdio", help="Serve over stdin/stdout.")] = False,
    meta_only: Annotated[
        bool,
        typer.Option("--meta-only", help="Expose only discover_tools and call_tool."),
    ] = False,
) -> None:
    """Serve the whole catalog as one MCP server (for Claude Desktop, Cursor, agents).

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
    from toolfoundry.library import ToolLibrary

    async with ToolLibrary.open() as library:
        gateway = build_gateway(library, meta_only=meta_only or None)
        await gateway.run_stdio_async(show_banner=False)
