"""Builds the gateway FastMCP server: catalog tools plus the two meta-tools."""

from __future__ import annotations

from typing import Annotated, Any

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from pydantic import Field

from toolfoundry.core.errors import ToolfoundryError
from toolfoundry.gateway.provider import CatalogProvider, error_text
from toolfoundry.gateway.scopes import ScopeMiddleware
from toolfoundry.library import ToolLibrary

INSTRUCTIONS = (
    "toolfoundry gateway. Tools are named `toolkit.tool`. When you do not know which tool fits, "
    "call `discover_tools` with the user's request, then `call_tool` with a returned name."
)


def build_gateway(library: ToolLibrary, *, meta_only: bool | None = None) -> FastMCP:
    """The catalog as an MCP server. `meta_only` (default: the setting) hides the catalog tools
    and leaves `discover_tools` and `call_tool`, for catalogs too large to list to a model."""
    if meta_only is None:
        meta_only = library.settings.gateway_meta_only
    providers = [] if meta_only else [CatalogProvider(library)]
    server = FastMCP(
        "toolfoundry",
        instructions=INSTRUCTIONS,
        providers=providers,
        middleware=[ScopeMiddleware()],
    )

    @server.tool(name="discover_tools")
    async def discover_tools(
        query: Annotated[str, Field(description="The user's request, in plain language.")],
        top_k: Annotated[int, Field(ge=1, le=50, description="How many tools to return.")] = 5,
    ) -> dict[str, Any]:
        """Find the catalog tools that best fit a request; returns their names and input schemas."""
        try:
            result = await library.discover(query, top_k=top_k)
        except ToolfoundryError as exc:
            raise ToolError(error_text(exc)) from exc
        return {
            "mode": result.mode,
            "tools": [
                {
                    "name": t.id,
                    "description": t.description,
                    "input_schema": t.input_schema,
                    "score": round(t.score, 4),
                }
                for t in result.tools
            ],
            "gaps": [g.description for g in result.gaps],
        }

    @server.tool(name="call_tool")
    async def call_tool(
        name: Annotated[str, Field(description="Tool id `toolkit.tool` (optionally @version).")],
        arguments: Annotated[
            dict[str, Any] | None, Field(description="Arguments matching the tool's schema.")
        ] = None,
        trajectory_id: Annotated[
            str | None,
            Field(description="Record the call as the next step of this agent run (tr_...)."),
        ] = None,
    ) -> dict[str, Any]:
        """Call any catalog tool by name; use `discover_tools` first to learn its schema."""
        try:
            if trajectory_id:
                result = await library.trajectories.call(trajectory_id, name, arguments or {})
            else:
                result = await library.call(name, arguments or {})
        except ToolfoundryError as exc:
            raise ToolError(error_text(exc)) from exc
        if result.is_error:
            raise ToolError(result.content)
        return {"tool": f"{result.tool}@{result.version}", "result": result.structured}

    return server
