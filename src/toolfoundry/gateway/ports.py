"""What the gateway needs of the catalog: reads, the name mapping, calls and the version its
caches key on. A `ToolLibrary` provides all of it; nothing here reaches into its parts."""

from __future__ import annotations

from typing import Any, Protocol

from toolfoundry.core.models import Tool, ToolResult


class ToolNames(Protocol):
    """Tool ids ↔ the model-safe names they are offered under (the dispatcher's table)."""

    def knows(self, ref: str) -> bool: ...

    def canonical_id(self, name: str) -> str: ...

    def exposed_name(self, tool_id: str) -> str: ...


class GatewayCatalog(Protocol):
    @property
    def catalog_version(self) -> int: ...

    @property
    def names(self) -> ToolNames: ...

    async def list_tools(self, *, enabled: bool | None = None) -> list[Tool]: ...

    async def get_tool(self, ref: str) -> Tool: ...

    async def call(self, ref: str, arguments: dict[str, Any] | None = None) -> ToolResult: ...
