"""Which scope each request needs. Deny by default: a write nobody listed needs `admin`."""

from __future__ import annotations

import re

from toolfoundry.auth.scopes import Scope

OPEN_PATHS = frozenset(
    {"/health", "/ready", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The dashboard's pages are shells without data and its assets are static files; the data
# comes from the API with the operator's token (docs/decisions/0002-dashboard.md).
DASHBOARD_PAGES = frozenset({"/", "/ui/login", "/ui/servers", "/ui/discover", "/ui/builds"})
DASHBOARD_PAGES |= {"/ui/trajectories", "/ui/metrics"}
DASHBOARD_ASSETS = ("/ui/static/", "/ui/docs-assets/")

# (methods, path pattern, scope); the first match wins. Patterns match the whole path.
RULES: list[tuple[frozenset[str] | None, re.Pattern[str], Scope]] = [
    # The MCP gateway: `read` lists and discovers; its own middleware asks `call` for calls.
    (None, re.compile(r"/mcp(/.*)?"), Scope.read),
    (frozenset({"POST"}), re.compile(r"/api/v1/tools/[^/]+/call"), Scope.call),
    (frozenset({"POST"}), re.compile(r"/api/v1/discover"), Scope.read),
    (frozenset({"POST"}), re.compile(r"/api/v1/agent/run"), Scope.call),
    (frozenset({"POST"}), re.compile(r"/api/v1/trajectories(/[^/]+/(steps|finish))?"), Scope.call),
    (frozenset({"POST"}), re.compile(r"/api/v1/build(/[^/]+/cancel)?"), Scope.build),
    (READ_METHODS, re.compile(r".*"), Scope.read),
]


def required_scope(method: str, path: str, *, metrics_public: bool = False) -> Scope | None:
    """The scope a request needs; None for the open endpoints (health, readiness, API docs)."""
    if path in OPEN_PATHS or (metrics_public and path == "/metrics"):
        return None
    if method in READ_METHODS and (path in DASHBOARD_PAGES or path.startswith(DASHBOARD_ASSETS)):
        return None
    for methods, pattern, scope in RULES:
        if (methods is None or method in methods) and pattern.fullmatch(path):
            return scope
    return Scope.admin
