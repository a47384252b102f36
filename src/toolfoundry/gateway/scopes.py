"""Least privilege inside the MCP gateway: the HTTP layer lets a `read` token in (list tools,
resources and prompts, `discover_tools`, `build_status`); `build_tool` needs `build`; calling
any other tool, reading an upstream resource or getting an upstream prompt needs `call` (each
runs upstream code, and a resource may be a file). Over stdio there is no token: the gateway
runs as the user who started it."""

from __future__ import annotations

from typing import Any

from fastmcp.exceptions import PromptError, ResourceError, ToolError
from fastmcp.server.dependencies import get_http_request
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext

from toolfoundry.auth.scopes import Scope

# The scope each meta-tool needs; every catalog tool needs `call`.
META_TOOL_SCOPES = {
    "discover_tools": Scope.read,
    "build_status": Scope.read,
    "build_tool": Scope.build,
}


def _refusal(needed: Scope, what: str) -> str | None:
    """Why the caller may not do `what`, or None if it may."""
    if needed is Scope.read:
        return None
    try:
        principal = get_http_request().scope.get("auth")
    except RuntimeError:  # stdio: no HTTP request, no token
        return None
    if principal is None or principal.allows(needed):
        return None
    return (
        f"{what} needs the '{needed}' scope; the token has "
        f"{', '.join(sorted(principal.scopes))}.\nUse a token with '{needed}' "
        f"(`toolfoundry auth create-token --name NAME --scope {needed}`)."
    )


class ScopeMiddleware(Middleware):
    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext) -> Any:
        name = context.message.name
        refused = _refusal(META_TOOL_SCOPES.get(name, Scope.call), f"Calling '{name}'")
        if refused:
            raise ToolError(refused)
        return await call_next(context)

    async def on_read_resource(self, context: MiddlewareContext[Any], call_next: CallNext) -> Any:
        refused = _refusal(Scope.call, f"Reading '{context.message.uri}'")
        if refused:
            raise ResourceError(refused)
        return await call_next(context)

    async def on_get_prompt(self, context: MiddlewareContext[Any], call_next: CallNext) -> Any:
        refused = _refusal(Scope.call, f"Getting the prompt '{context.message.name}'")
        if refused:
            raise PromptError(refused)
        return await call_next(context)
