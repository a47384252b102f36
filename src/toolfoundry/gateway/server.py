"""Builds the gateway FastMCP server: catalog tools plus the meta-tools."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from pydantic import Field

from toolfoundry import __version__
from toolfoundry.core.errors import ToolfoundryError
from toolfoundry.gateway.build_tools import add_build_tools
from toolfoundry.gateway.notifications import ListChangedNotifier
from toolfoundry.gateway.provider import CatalogProvider, error_text, relaying_progress
from toolfoundry.gateway.scopes import ScopeMiddleware
from toolfoundry.library import ToolLibrary

INSTRUCTIONS = (
    "toolfoundry gateway. When you do not know which tool fits, call `discover_tools` with the "
    "user's request, then `call_tool` with a returned name. When no tool fits, `build_tool` "
    "builds one."
)


def parse_arguments(arguments: dict[str, Any] | str | None) -> dict[str, Any]:
    """Arguments as an object, or as a JSON string of one (the MCP Inspector CLI sends those)."""
    if arguments is None or arguments == "":
        return {}
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments)
    except json.JSONDecodeError as exc:
        raise ToolError(
            f"`arguments` is a string but not JSON: {exc.msg} at character {exc.pos}\n"
            'Send an object such as {"values": [1, 2]}, or a JSON string of one.'
        ) from None
    if not isinstance(parsed, dict):
        raise ToolError(
            f"`arguments` must be a JSON object, got {type(parsed).__name__}\n"
            'Send an object such as {"values": [1, 2]}.'
        )
    return parsed


def build_gateway(
    library: ToolLibrary,
    *,
    meta_only: bool | None = None,
    safe_names: bool | None = None,
    builds: bool = True,
) -> FastMCP:
    """The catalog as an MCP server.

    `meta_only` (default: the setting) hides the catalog tools and leaves the meta-tools, for
    catalogs too large to list to a model. `safe_names` (default: the setting) exposes names
    matching `^[a-zA-Z0-9_-]{1,64}$` (`stats__mean` for `stats.mean`), which OpenAI-style
    function calling requires; the dispatcher accepts both forms. `builds` adds `build_tool`
    and `build_status`.
    """
    settings = library.settings
    if meta_only is None:
        meta_only = settings.gateway_meta_only
    if safe_names is None:
        safe_names = settings.gateway_safe_names
    providers = [] if meta_only else [CatalogProvider(library, safe_names=safe_names)]
    notifier = ListChangedNotifier()
    server = FastMCP(
        "toolfoundry",
        version=__version__,
        instructions=INSTRUCTIONS,
        providers=providers,
        middleware=[ScopeMiddleware()],
    )
    notifier.install(server)
    # Every catalog change — local or, through the change feed, from another process — is
    # announced to connected clients so they never keep a stale tool list.
    library.on_change(lambda _event, _ident: notifier.tools_changed())

    def shown(tool_id: str) -> str:
        return library.dispatcher.table.exposed_name(tool_id) if safe_names else tool_id

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
                    "name": shown(t.id),
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
        name: Annotated[str, Field(description="Tool name as listed (optionally @version).")],
        arguments: Annotated[
            dict[str, Any] | str | None,
            Field(description="Arguments matching the tool's schema: an object or its JSON."),
        ] = None,
        trajectory_id: Annotated[
            str | None,
            Field(description="Record the call as the next step of this agent run (tr_...)."),
        ] = None,
    ) -> dict[str, Any]:
        """Call any catalog tool by name; use `discover_tools` first to learn its schema."""
        args = parse_arguments(arguments)
        try:
            if trajectory_id:
                result = await relaying_progress(
                    lambda: library.trajectories.call(trajectory_id, name, args)
                )
            else:
                result = await relaying_progress(lambda: library.call(name, args))
        except ToolfoundryError as exc:
            raise ToolError(error_text(exc)) from exc
        if result.is_error:
            raise ToolError(result.content)
        return {"tool": f"{result.tool}@{result.version}", "result": result.structured}

    if builds:
        add_build_tools(server, library, shown)
    return server
