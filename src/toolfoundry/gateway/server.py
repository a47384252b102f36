"""Builds the gateway FastMCP server: catalog tools plus the meta-tools."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from fastmcp.server.providers import Provider
from pydantic import Field

from toolfoundry import __version__
from toolfoundry.core.errors import ToolfoundryError
from toolfoundry.discovery.results import CapabilityGap, RankedTool
from toolfoundry.gateway.build_tools import add_build_tools
from toolfoundry.gateway.notifications import ListChangedNotifier
from toolfoundry.gateway.provider import CatalogProvider, error_text, relaying
from toolfoundry.gateway.scopes import ScopeMiddleware
from toolfoundry.gateway.upstream import UpstreamProvider
from toolfoundry.gateway.views import ViewScope
from toolfoundry.library import ToolLibrary
from toolfoundry.registry.views import VirtualServer

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
    view: VirtualServer | None = None,
) -> FastMCP:
    """The catalog as an MCP server.

    `meta_only` (default: the setting) hides the catalog tools and leaves the meta-tools, for
    catalogs too large to list to a model. `safe_names` (default: the setting) exposes names
    matching `^[a-zA-Z0-9_-]{1,64}$` (`stats__mean` for `stats.mean`), which OpenAI-style
    function calling requires; the dispatcher accepts both forms. `builds` adds `build_tool`
    and `build_status`.

    `view` serves a virtual server instead: only its tools are listed, and `discover_tools` and
    `call_tool` reach only them; its own `meta_only` and `allow_builds` apply.
    """
    settings = library.settings
    scope = ViewScope(library, view) if view is not None else None
    if view is not None:
        meta_only, builds = view.meta_only, view.allow_builds
    if meta_only is None:
        meta_only = settings.gateway_meta_only
    if safe_names is None:
        safe_names = settings.gateway_safe_names
    providers: list[Provider] = []
    if not meta_only:
        providers.append(CatalogProvider(library, safe_names=safe_names, scope=scope))
    if view is None:  # upstream resources and prompts: on the whole-catalog gateway only
        providers.append(UpstreamProvider(library.mcp))
    instructions = INSTRUCTIONS if builds else INSTRUCTIONS.rpartition(" When no tool")[0]
    if view is not None:
        about = f" {view.description}" if view.description else ""
        instructions = f"Virtual server '{view.name}' of the {instructions}{about}"
    notifier = ListChangedNotifier()
    server = FastMCP(
        "toolfoundry",
        version=__version__,
        instructions=instructions,
        providers=providers,
        middleware=[ScopeMiddleware()],
    )
    notifier.install(server)
    # Every catalog change — local or, through the change feed, from another process — is
    # announced to connected clients so they never keep a stale tool list.
    library.on_change(lambda event, _ident: notifier.tools_changed(upstream=event == "servers"))

    def shown(tool_id: str) -> str:
        return library.names.exposed_name(tool_id) if safe_names else tool_id

    @server.tool(name="discover_tools")
    async def discover_tools(
        query: Annotated[str, Field(description="The user's request, in plain language.")],
        top_k: Annotated[int, Field(ge=1, le=50, description="How many tools to return.")] = 5,
    ) -> dict[str, Any]:
        """Find the catalog tools that best fit a request; returns their names and input schemas."""
        try:
            mode, tools, gaps = await _discover(library, scope, query, top_k)
        except ToolfoundryError as exc:
            raise ToolError(error_text(exc)) from exc
        return {
            "mode": mode,
            "tools": [
                {
                    "name": shown(t.id),
                    "description": t.description,
                    "input_schema": t.input_schema,
                    "score": round(t.score, 4),
                }
                for t in tools
            ],
            "gaps": [g.description for g in gaps],
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
        if scope is not None and not await scope.allows(name):
            raise ToolError(scope.refusal(name))
        try:
            if trajectory_id:
                result = await relaying(
                    lambda: library.trajectories.call(trajectory_id, name, args)
                )
            else:
                result = await relaying(lambda: library.call(name, args))
        except ToolfoundryError as exc:
            raise ToolError(error_text(exc)) from exc
        if result.is_error:
            raise ToolError(result.content)
        return {"tool": f"{result.tool}@{result.version}", "result": result.structured}

    if builds:
        add_build_tools(server, library, shown)
    return server


async def _discover(
    library: ToolLibrary, scope: ViewScope | None, query: str, top_k: int
) -> tuple[str, list[RankedTool], list[CapabilityGap]]:
    """Discovery over the whole catalog, or over a virtual server's tools only: searched within
    their toolkits, then anything else of those toolkits dropped. (The result is the discovery
    cache's own object: read, never modified.)"""
    if scope is None:
        result = await library.discover(query, top_k=top_k)
        return result.mode, result.tools, result.gaps
    members = {i: t for i, t in (await scope.members()).items() if t.enabled}
    if not members:
        return "retrieval", [], []
    toolkits = sorted({t.toolkit for t in members.values()})
    result = await library.discover(query, top_k=min(50, top_k * 4), toolkits=toolkits)
    return result.mode, [t for t in result.tools if t.id in members][:top_k], result.gaps
