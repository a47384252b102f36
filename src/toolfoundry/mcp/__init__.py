"""Connections to MCP servers: configuration, one shared session per server, import of configs."""

from toolfoundry.mcp.breaker import BreakerState, CircuitBreaker
from toolfoundry.mcp.config import (
    SECRET_MASK,
    McpServerConfig,
    McpToolInfo,
    ServerState,
    ServerStatus,
    Transport,
)
from toolfoundry.mcp.connection import McpConnection, ToolsChangedCallback
from toolfoundry.mcp.errors import (
    McpCommandNotAllowedError,
    McpConfigError,
    McpError,
    McpNotFoundError,
    McpOutcomeUnknownError,
    McpTimeoutError,
    McpToolError,
    McpUnavailableError,
)
from toolfoundry.mcp.importers import load_server_configs, parse_mcp_servers, parse_server_json
from toolfoundry.mcp.manager import McpConnectionManager

__all__ = [
    "SECRET_MASK",
    "BreakerState",
    "CircuitBreaker",
    "McpCommandNotAllowedError",
    "McpConfigError",
    "McpConnection",
    "McpConnectionManager",
    "McpError",
    "McpNotFoundError",
    "McpOutcomeUnknownError",
    "McpServerConfig",
    "McpTimeoutError",
    "McpToolError",
    "McpToolInfo",
    "McpUnavailableError",
    "ServerState",
    "ServerStatus",
    "ToolsChangedCallback",
    "Transport",
    "load_server_configs",
    "parse_mcp_servers",
    "parse_server_json",
]
