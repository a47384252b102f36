"""Least privilege inside the MCP gateway: the HTTP layer lets a `read` token in (list tools,
`discover_tools`, `build_status`); `build_tool` needs `build`; calling any other tool needs
`call`. Over stdio there is no token: the gateway runs as the user who started it."""

from __future__ import annotations

from typing import Any

from fastmcp.exceptions import ToolError
from fastmcp.server.dependencies import get_http_request
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext

from toolfoundry.auth.scopes import Scope

# The scope each meta-tool needs; every catalog tool needs `call`.
META_TOOL_SCOPES = {
    "discover_tools": Scope.read,
    "build_status": Scope.read,
    "build_tool": Scope.build,
}


class ScopeMiddleware(Middleware):
    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext) -> Any:
        needed = META_TOOL_SCOPES.get(context.message.name, Scope.call)
        if needed is not Scope.read:
            try:
                principal = get_http_request().scope.get("auth")
            except RuntimeError:  # stdio: no HTTP request, no token
                principal = None
            if principal is not None and not principal.allows(needed):
                raise ToolError(
                    f"Calling '{context.message.name}' needs the '{needed}' scope; the token "
                    f"has {', '.join(sorted(principal.scopes))}.\nUse a token with "
                    f"'{needed}' (`toolfoundry auth create-token --name NAME --scope "
                    f"{needed}`)."
                )
        return await call_next(context)
