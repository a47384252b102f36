"""Adapter for agent code written against the old runtime interface.

Old code asked a runtime for its capabilities (a list of names) and executed `(tool, action,
params)`. Both now go through the catalog and the one dispatcher, so old callers get versioning,
validation and call records without changing.
"""

from __future__ import annotations

from typing import Any, Protocol

from toolfoundry.core.errors import ToolfoundryError
from toolfoundry.core.models import Tool, Toolkit, ToolResult


class CompatCatalog(Protocol):
    """What the adapter needs: the catalog's reads and the one way to call (a `ToolLibrary`)."""

    async def list_toolkits(self, category: str | None = None) -> list[Toolkit]: ...

    async def list_tools(self, *, enabled: bool | None = None) -> list[Tool]: ...

    async def call(self, ref: str, arguments: dict[str, Any] | None = None) -> ToolResult: ...


class CompatibilityAdapter:
    def __init__(self, library: CompatCatalog) -> None:
        self.library = library

    async def get_capabilities(self, runtime_type: str) -> list[str]:
        """Names of the enabled tools for a runtime type: a toolkit category or a toolkit name."""
        toolkits = {k.id for k in await self.library.list_toolkits(category=runtime_type)}
        toolkits.update(k.id for k in await self.library.list_toolkits() if k.id == runtime_type)
        tools = await self.library.list_tools(enabled=True)
        return [t.name for t in tools if t.toolkit in toolkits]

    async def execute_tool(self, tool_name: str, action: str, params: dict[str, Any]) -> dict:
        """Run `tool_name.action` (toolkit + tool), or `tool_name` itself when it is a full id.

        Returns the old dict shape: `success`, `result`, `error`, plus `tool` and `duration_ms`.
        Errors are reported in the dict, as old callers expect, never raised.
        """
        ref = f"{tool_name}.{action}" if action and "." not in tool_name else tool_name
        try:
            result = await self.library.call(ref, params)
        except ToolfoundryError as exc:
            return {"success": False, "result": None, "error": exc.detail, "tool": ref}
        return {
            "success": not result.is_error,
            "result": result.structured if not result.is_error else None,
            "error": result.error.message if result.error else None,
            "tool": f"{result.tool}@{result.version}",
            "duration_ms": result.duration_ms,
        }
