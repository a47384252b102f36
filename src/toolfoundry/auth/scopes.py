"""Token scopes: what a token may do. `admin` implies every other scope."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    read = "read"
    """List, describe and discover tools; read calls, trajectories, builds and metrics."""
    call = "call"
    """Call tools (REST and the MCP gateway), record trajectories, run the agent."""
    build = "build"
    """Submit and cancel builds of new MCP servers."""
    admin = "admin"
    """Register MCP servers, toolkits and versions, change tools, prune data; implies all."""


def allows(granted: Iterable[str], needed: Scope) -> bool:
    granted = set(granted)
    return needed in granted or Scope.admin in granted
