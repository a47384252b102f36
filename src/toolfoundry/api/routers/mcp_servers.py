"""/api/v1/mcp-servers: register MCP servers; their tools join the catalog."""

from fastapi import APIRouter, status

from toolfoundry.api.deps import Library
from toolfoundry.api.problems import problem_responses
from toolfoundry.mcp import McpServerConfig
from toolfoundry.registry.mcp_servers import McpServerInfo

router = APIRouter(
    prefix="/api/v1/mcp-servers",
    tags=["mcp-servers"],
    responses=problem_responses(400, 404, 409, 422, 502, 503),
)


@router.post("", status_code=status.HTTP_201_CREATED)
async def add_server(config: McpServerConfig, library: Library) -> McpServerInfo:
    """Register a server: it is started, initialized and its tools listed before anything is
    stored; a server that cannot start or answer is a 422 and nothing is kept."""
    return await library.add_mcp_server(config)


@router.get("")
async def list_servers(library: Library) -> list[McpServerInfo]:
    return await library.list_mcp_servers()


@router.get("/{name}")
async def get_server(name: str, library: Library) -> McpServerInfo:
    """Config, live connection status (state, breaker, latency, last error) and tools."""
    return await library.get_mcp_server(name)


@router.delete("/{name}")
async def remove_server(name: str, library: Library) -> dict[str, list[str]]:
    """Unregister a server; its tools leave the catalog."""
    return {"removed_tools": await library.remove_mcp_server(name)}


@router.post("/{name}/restart")
async def restart_server(name: str, library: Library) -> McpServerInfo:
    """Stop the server's session (a stdio server's process ends) and start a fresh one; its
    tools are listed again. 503 if it does not come back (it is retried on first use)."""
    return await library.restart_mcp_server(name)


@router.post("/{name}/refresh")
async def refresh_server(name: str, library: Library) -> McpServerInfo:
    """List the server's tools again: new ones are added, changed ones get a new version,
    vanished ones are disabled."""
    return await library.refresh_mcp_server(name)
