"""Backends run a resolved tool version. The dispatcher picks one by tool kind from a registry,
so adding a kind of tool means registering a backend, not editing the dispatcher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from toolfoundry.core.errors import BackendUnavailableError
from toolfoundry.core.models import ToolKind
from toolfoundry.runtime.entries import ToolEntry
from toolfoundry.store.tables import ToolRow, ToolVersionRow


@dataclass(slots=True)
class ToolOutput:
    """What a backend produced: text for a model, the JSON value, and whether it is an error."""

    content: str
    structured: Any = None
    is_error: bool = False
    error_type: str | None = None
    # Non-text MCP content (images, audio, resource links, embedded resources) as the server
    # sent it, so the gateway can pass it through unchanged.
    blocks: list[dict[str, Any]] | None = None


class Backend(Protocol):
    kind: ToolKind

    def load(self, tool: ToolRow, version: ToolVersionRow) -> ToolEntry:
        """Turn a stored version into a callable entry (import the function, bind the server)."""
        ...

    async def invoke(self, entry: ToolEntry, arguments: dict[str, Any]) -> ToolOutput:
        """Run the tool. Raise on failure; the dispatcher classifies and records it."""
        ...


class BackendRegistry:
    def __init__(self) -> None:
        self._backends: dict[ToolKind, Backend] = {}

    def register(self, backend: Backend) -> None:
        self._backends[backend.kind] = backend

    def get(self, kind: ToolKind) -> Backend:
        try:
            return self._backends[kind]
        except KeyError:
            raise BackendUnavailableError(
                f"no backend registered for {kind.value} tools",
                hint="This service was started without support for that kind of tool.",
            ) from None
