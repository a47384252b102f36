"""Errors raised by the MCP connection manager.

Callers branch on the class, never on the message: the dispatcher maps `McpUnavailableError` to
503 and retries it as transient, `McpConfigError` to a 4xx, and reports `McpToolError` as the
tool's own failure. Every message names the server and says what to do next.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mcp_types

__all__ = [
    "McpCommandNotAllowedError",
    "McpConfigError",
    "McpError",
    "McpNotFoundError",
    "McpOutcomeUnknownError",
    "McpTimeoutError",
    "McpToolError",
    "McpUnavailableError",
]


class McpError(Exception):
    """Base class of every MCP connection error."""

    def __init__(self, message: str, *, server: str | None = None) -> None:
        super().__init__(message)
        self.server = server


class McpUnavailableError(McpError):
    """The server cannot be reached: it is down, failed to start, or its breaker is open.

    Transient: the same call may succeed later. `retry_after` (seconds) is set when the
    breaker knows when it will let the next probe through.
    """

    def __init__(
        self, message: str, *, server: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, server=server)
        self.retry_after = retry_after


class McpOutcomeUnknownError(McpUnavailableError):
    """The session died while a tool call was in flight, and the tool is not known to be safe
    to repeat: it may or may not have run. Never retried automatically."""


class McpTimeoutError(McpError):
    """The server did not answer a request within its timeout."""


class McpToolError(McpError):
    """The server answered, but with an error: the tool reported `isError` or rejected the call.

    `result` holds the tool's own error result when there is one; `code` holds the JSON-RPC
    error code when the server rejected the request instead (unknown tool, invalid arguments).
    """

    def __init__(
        self,
        message: str,
        *,
        server: str | None = None,
        result: mcp_types.CallToolResult | None = None,
        code: int | None = None,
    ) -> None:
        super().__init__(message, server=server)
        self.result = result
        self.code = code


class McpConfigError(McpError):
    """A server configuration or import file is invalid; fixing the input is the only remedy."""


class McpNotFoundError(McpConfigError):
    """No server is registered under the given name."""


class McpCommandNotAllowedError(McpConfigError):
    """A stdio server's command is not on the configured allow-list; nothing was started."""

    def __init__(self, message: str, *, server: str | None, command: str, allowed: list[str]):
        super().__init__(message, server=server)
        self.command = command
        self.allowed = allowed
