"""A fastmcp Provider whose tools are the catalog's enabled tools, called through the dispatcher."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastmcp.exceptions import ToolError
from fastmcp.server.providers import Provider
from fastmcp.tools import Tool as McpTool
from fastmcp.tools.base import ToolResult as McpToolResult
from fastmcp.utilities.versions import VersionSpec
from mcp.types import TextContent

from toolfoundry.core.errors import ToolfoundryError
from toolfoundry.core.models import Tool, ToolResult
from toolfoundry.library import ToolLibrary
from toolfoundry.registry.schema import WRAPPED_KEY


def to_mcp_result(result: ToolResult, output_schema: dict[str, Any] | None) -> McpToolResult:
    """A dispatcher result as MCP content; structured content only where a schema promises it."""
    structured: dict[str, Any] | None = None
    if output_schema is not None and not result.is_error:
        if output_schema.get(WRAPPED_KEY):
            structured = {"result": result.structured}
        elif isinstance(result.structured, dict):
            structured = result.structured
    return McpToolResult(
        content=[TextContent(type="text", text=result.content)],
        structured_content=structured,
        is_error=result.is_error,
    )


def error_text(exc: ToolfoundryError) -> str:
    return f"{exc.detail} {exc.hint}" if exc.hint else exc.detail


class CatalogTool(McpTool):
    """One catalog tool seen over MCP; running it is a `library.call`."""

    tool_id: str
    library: Any  # ToolLibrary; Any keeps pydantic from trying to validate it

    async def run(self, arguments: dict[str, Any]) -> McpToolResult:
        try:
            result = await self.library.call(self.tool_id, arguments)
        except ToolfoundryError as exc:
            # A ToolError reaches the client as an isError result it can read and act on.
            raise ToolError(error_text(exc)) from exc
        return to_mcp_result(result, self.output_schema)

    @classmethod
    def from_catalog(cls, tool: Tool, library: ToolLibrary) -> CatalogTool:
        description = tool.description + (" [deprecated]" if tool.deprecated else "")
        output_schema = tool.output_schema
        if output_schema is not None and output_schema.get("type") != "object":
            output_schema = None  # MCP only allows object output schemas
        return cls(
            name=tool.id,
            description=description,
            parameters=tool.input_schema,
            output_schema=output_schema,
            tags=set(tool.tags) | {tool.toolkit},
            tool_id=tool.id,
            library=library,
        )


class CatalogProvider(Provider):
    """Lists the catalog's enabled tools; the list is rebuilt only when the catalog changed."""

    def __init__(self, library: ToolLibrary) -> None:
        super().__init__()
        self.library = library
        self._version = -1
        self._tools: dict[str, CatalogTool] = {}

    async def _current(self) -> dict[str, CatalogTool]:
        if self._version != self.library.catalog_version:
            version = self.library.catalog_version
            tools = await self.library.list_tools(enabled=True)
            self._tools = {t.id: CatalogTool.from_catalog(t, self.library) for t in tools}
            self._version = version
        return self._tools

    async def _list_tools(self) -> Sequence[McpTool]:
        return list((await self._current()).values())

    async def _get_tool(self, name: str, version: VersionSpec | None = None) -> McpTool | None:
        return (await self._current()).get(name)
