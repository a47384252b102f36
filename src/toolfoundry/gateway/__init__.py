"""The catalog as an MCP server: every enabled tool plus `discover_tools` and `call_tool`."""

from toolfoundry.gateway.provider import CatalogProvider
from toolfoundry.gateway.server import build_gateway

__all__ = ["CatalogProvider", "build_gateway"]
