"""Least privilege inside the MCP gateway: the HTTP layer lets a `read` token in (list tools,
`discover_tools`); calling any other tool needs `call`. Over stdio there is no token: the
gateway runs as the user who started it."""

from __future__ import annotations

from typing import Any

from fastmcp.exceptions import ToolError
from fastmcp.server.dependencies import get_http_request
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext

from toolfoundry.auth.scopes import Scope

READ_ONLY_TOOLS = frozenset({"discover_tools"})


class ScopeMiddleware(Middleware):
    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext) -> Any:
        if context.message.name not in READ_ONLY_TOOLS:
            try:
                principal = get_http_request().scope.get("auth")
            except RuntimeError:  # stdio: no HTTP request, no token
                principal = None
            if principal is not None and not principal.allows(Scope.call):
                raise ToolError(
                    f"Calling '{context.message.name}' needs the 'call' scope; the token has "
                    f"{', '.join(sorted(principal.scopes))}. Use a token with 'call' "
                    "(`toolfoundry auth create-token --name NAME --scope read --scope call`)."
                )
        return await call_next(context)
