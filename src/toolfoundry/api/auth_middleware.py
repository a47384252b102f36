"""Bearer-token authentication for every HTTP and WebSocket request, the mounted MCP gateway
included. Plain ASGI, so it costs one dict lookup per request after a token's first use."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from toolfoundry.api.problems import send_problem
from toolfoundry.api.route_scopes import required_scope
from toolfoundry.auth.authenticator import Authenticator
from toolfoundry.auth.exposure import is_loopback
from toolfoundry.core.errors import AuthenticationError, InsufficientScopeError

# A browser cannot set headers on a WebSocket; it may offer `["bearer", token]` as subprotocols
# (the server then accepts "bearer") or pass `?token=`.
WS_SUBPROTOCOL = "bearer"


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if kind.lower() == "bearer" else None
    if scope["type"] != "websocket":
        return None  # query tokens end up in access logs: only where nothing else works
    protocols = list(scope.get("subprotocols") or [])
    if WS_SUBPROTOCOL in protocols and protocols.index(WS_SUBPROTOCOL) + 1 < len(protocols):
        return protocols[protocols.index(WS_SUBPROTOCOL) + 1]
    tokens = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return tokens[0] if tokens else None


class AuthMiddleware:
    """Puts the caller's `Principal` at `scope["auth"]`, or answers 401/403 problem details."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator,
        enabled: bool = True,
        metrics_public: bool = False,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.enabled = enabled
        self.metrics_public = metrics_public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        needed = required_scope(
            scope.get("method", "GET"), path, metrics_public=self.metrics_public
        )
        scope["auth"] = None
        client = scope.get("client")
        # Auth off holds only for callers on this machine, whatever address was bound.
        local = client is None or is_loopback(client[0])
        if needed is None or (not self.enabled and local):
            await self.app(scope, receive, send)
            return
        token = bearer_token(scope)
        try:
            principal = await self.authenticator.authenticate(token)
            principal.require(needed)
        except AuthenticationError as exc:
            # RFC 6750: no error code when no credentials were sent at all.
            challenge = 'Bearer realm="toolfoundry"' + (', error="invalid_token"' if token else "")
            await send_problem(scope, receive, send, exc, {"WWW-Authenticate": challenge})
            return
        except InsufficientScopeError as exc:
            challenge = (
                f'Bearer realm="toolfoundry", error="insufficient_scope", scope="{exc.required}"'
            )
            await send_problem(scope, receive, send, exc, {"WWW-Authenticate": challenge})
            return
        scope["auth"] = principal
        await self.app(scope, receive, send)
