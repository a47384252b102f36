"""What the builder needs from the rest of toolfoundry, as narrow structural ports.

The builder never imports the library: each part takes only the port it uses, and
`ToolLibrary` satisfies them all structurally (no inheritance, no registration), as would a
build worker that wires just a database and a server registry. They are runtime-checkable so
a test notices when the library stops providing one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pydantic_ai.models import Model
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from toolfoundry.builder.service.queue import BuildRecord
    from toolfoundry.core.models import Tool, ToolResult
    from toolfoundry.core.settings import Settings
    from toolfoundry.mcp import McpServerConfig
    from toolfoundry.registry.mcp_servers import McpServerInfo


@runtime_checkable
class ServerRegistrar(Protocol):
    """Registers built servers in the catalog and takes them out again."""

    async def add_mcp_server(self, config: McpServerConfig) -> McpServerInfo: ...

    async def refresh_mcp_server(self, name: str) -> McpServerInfo: ...

    async def get_mcp_server(self, name: str) -> McpServerInfo: ...

    async def list_mcp_servers(self) -> list[McpServerInfo]: ...

    async def remove_mcp_server(self, name: str) -> list[str]: ...


@runtime_checkable
class ToolRunner(Protocol):
    """Reads a catalog tool and calls it: a reused asset must still reproduce the examples."""

    async def get_tool(self, ref: str) -> Tool: ...

    async def call(self, ref: str, arguments: dict[str, Any] | None = None) -> ToolResult: ...


@runtime_checkable
class CatalogDatabase(Protocol):
    """The catalog's database: the builds, assets and failures tables live beside the tools."""

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...


@runtime_checkable
class BuildHost(ServerRegistrar, ToolRunner, Protocol):
    """Everything the build service is given: settings, the LLM provider (None: no model), the
    catalog's database, a server registrar and a tool runner."""

    @property
    def settings(self) -> Settings: ...

    @property
    def llm(self) -> Model | None: ...

    @property
    def catalog(self) -> CatalogDatabase: ...


@runtime_checkable
class ServerRestorer(Protocol):
    async def restore(self) -> Any: ...


@runtime_checkable
class GapCloser(Protocol):
    """What closing a capability gap needs: build (or reuse) here, or have a remote builder do
    it and load the tools it registered."""

    @property
    def settings(self) -> Settings: ...

    @property
    def servers(self) -> ServerRestorer: ...

    async def build(
        self, requirement: dict[str, Any], *, budget: float | None = None, **options: Any
    ) -> BuildRecord: ...

    async def reload(self, tool_ids: Iterable[str] | None = None) -> None: ...
