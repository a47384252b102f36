"""The registry of live MCP connections: one `McpConnection` per configured server."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Awaitable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import mcp_types
from fastmcp.client.transports import ClientTransport

from toolfoundry.mcp import metrics
from toolfoundry.mcp.config import McpServerConfig, McpToolInfo, ServerStatus
from toolfoundry.mcp.connection import McpConnection, ToolsChangedCallback
from toolfoundry.mcp.errors import (
    McpCommandNotAllowedError,
    McpConfigError,
    McpError,
    McpNotFoundError,
    McpToolError,
)

if TYPE_CHECKING:
    from fastmcp import FastMCP

__all__ = ["McpConnectionManager"]

logger = logging.getLogger(__name__)


class McpConnectionManager:
    """Owns the connections to every registered MCP server.

    Use as an async context manager (or call `aclose()`) so every session is closed and every
    stdio child reaped on shutdown.
    """

    def __init__(self, *, allowed_commands: Sequence[str] | None = None) -> None:
        """`allowed_commands`: the only programs stdio servers may run (names looked up on
        PATH, or paths); None allows any existing command."""
        self.allowed_commands = list(allowed_commands) if allowed_commands is not None else None
        self._connections: dict[str, McpConnection] = {}
        self._adding: dict[str, McpConnection] = {}
        self._callbacks: list[ToolsChangedCallback] = []
        metrics.track(self)  # per-server up/breaker gauges at /metrics

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __contains__(self, name: object) -> bool:
        return name in self._connections

    def names(self) -> list[str]:
        return sorted(self._connections)

    async def add(
        self,
        config: McpServerConfig,
        *,
        server: ClientTransport | FastMCP[Any] | None = None,
        connect: bool = True,
    ) -> McpConnection:
        """Register a server. With `connect` (the default) it is started, initialized and its
        tools listed first; if that fails, `McpConfigError` explains why and nothing is kept.
        With `connect=False` (restoring saved servers) it starts on first use.

        `server` replaces the transport built from the config (see `McpConnection`).
        """
        name = config.name
        if name in self._connections or name in self._adding:
            raise McpConfigError(
                f"an MCP server named {name!r} is already registered; remove it first or choose "
                "another name",
                server=name,
            )
        if server is None:
            config = self.vet(config)
        connection = McpConnection(config, server=server, on_tools_changed=self._tools_changed)
        if connect:
            self._adding[name] = connection
            try:
                await connection.start()
            except BaseException as exc:
                await connection.close()
                if isinstance(exc, McpError) and not isinstance(exc, McpConfigError):
                    raise McpConfigError(
                        f"cannot register MCP server {name!r}: {exc}", server=name
                    ) from exc
                raise
            finally:
                del self._adding[name]
        self._connections[name] = connection
        return connection

    def vet(self, config: McpServerConfig) -> McpServerConfig:
        """Check a stdio server's command before anything runs: it must exist and be allowed.
        Returns the config with the command as an absolute path, so a later change of PATH
        or working directory cannot swap the program."""
        if config.transport != "stdio" or config.command is None:
            return config
        command = _resolve_command(config)
        if self.allowed_commands is not None and not _allowed(command, self.allowed_commands):
            raise McpCommandNotAllowedError(
                f"cannot register MCP server {config.name!r}: command {config.command!r} "
                f"({command}) is not allowed; allowed: {', '.join(self.allowed_commands)}",
                server=config.name,
                command=config.command,
                allowed=self.allowed_commands,
            )
        return config.model_copy(update={"command": command})

    async def restart(self, name: str) -> list[McpToolInfo]:
        """End the server's session (and its stdio child) and start a fresh one, listing its
        tools again. If the new one cannot start, the server stays registered and reconnects
        on first use, as after a crash."""
        old = self.get(name)
        fresh = McpConnection(old.config, server=old._server, on_tools_changed=self._tools_changed)
        self._connections[name] = fresh  # calls from now on use the new session
        await old.close()
        return await fresh.start()

    async def remove(self, name: str) -> None:
        """Unregister a server and close its connection."""
        connection = self.get(name)
        del self._connections[name]
        await connection.close()

    def get(self, name: str) -> McpConnection:
        try:
            return self._connections[name]
        except KeyError:
            raise McpNotFoundError(
                f"no MCP server named {name!r} is registered "
                f"(registered: {', '.join(self.names()) or 'none'})",
                server=name,
            ) from None

    async def list_tools(self, name: str) -> list[McpToolInfo]:
        """The server's tools: the remembered listing, fetched first if there is none yet."""
        connection = self.get(name)
        if connection.tools is None:
            return await connection.list_tools()
        return connection.tools

    async def refresh(self, name: str) -> list[McpToolInfo]:
        """List the server's tools again; tools-changed callbacks run if they differ."""
        return await self.get(name).list_tools()

    async def call_tool(
        self,
        server: str,
        tool: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - becomes the request's own deadline
        raise_on_error: bool = True,
    ) -> mcp_types.CallToolResult:
        """Call `tool` on `server`. A result with `is_error` raises `McpToolError` (holding the
        result) unless `raise_on_error` is False; a request the server rejects (unknown tool,
        bad arguments at the protocol level) always raises it. Unreachable server or open
        breaker: `McpUnavailableError`; no answer in time: `McpTimeoutError`."""
        connection = self._connections.get(server)
        if connection is None:
            connection = self.get(server)  # raises the explanatory McpNotFoundError
        result = await connection.call_tool(tool, arguments, timeout=timeout)
        if result.is_error and raise_on_error:
            raise McpToolError(
                f"tool {tool!r} on MCP server {server!r} failed: {_error_text(result)}",
                server=server,
                result=result,
            )
        return result

    def status(self, name: str) -> ServerStatus:
        return self.get(name).status()

    def statuses(self) -> list[ServerStatus]:
        return [self._connections[name].status() for name in self.names()]

    def on_tools_changed(self, callback: ToolsChangedCallback) -> ToolsChangedCallback:
        """Register `callback(server_name, tools)` for changed tool listings; usable as a
        decorator (returns the callback unchanged)."""
        self._callbacks.append(callback)
        return callback

    async def aclose(self) -> None:
        """Close every connection concurrently, including those still being added."""
        connections = [*self._connections.values(), *self._adding.values()]
        self._connections.clear()
        await asyncio.gather(*(connection.close() for connection in connections))

    async def _tools_changed(self, name: str, tools: list[McpToolInfo]) -> None:
        for callback in self._callbacks:
            try:
                outcome = callback(name, tools)
                if isinstance(outcome, Awaitable):
                    await outcome
            except Exception:
                logger.exception("tools-changed callback %r failed for %r", callback, name)


def _resolve_command(config: McpServerConfig) -> str:
    """The absolute path of a stdio command, or McpConfigError when it cannot be found."""
    command = config.command or ""
    found: str | None
    if os.sep in command:
        path = Path(config.cwd or ".") / command
        found = str(path) if path.is_file() and os.access(path, os.X_OK) else None
    else:
        found = shutil.which(command, path=config.env.get("PATH", os.environ.get("PATH")))
    if found is None:
        raise McpConfigError(
            f"cannot register MCP server {config.name!r}: command {command!r} was not found or "
            "is not executable; install it or give its full path",
            server=config.name,
        )
    # Absolute but not symlink-resolved: a venv's python must stay the venv's python.
    return os.path.abspath(found)


def _allowed(command: str, allowed: Sequence[str]) -> bool:
    """Whether `command` is the program of an allow-list entry (a name on the service's PATH,
    or a path); compared as real paths, so a symlink or `..` cannot disguise another one."""
    real = os.path.realpath(command)
    for entry in allowed:
        target = shutil.which(entry) if os.sep not in entry else entry
        if target is not None and os.path.realpath(target) == real:
            return True
    return False


def _error_text(result: mcp_types.CallToolResult) -> str:
    texts = [block.text for block in result.content if isinstance(block, mcp_types.TextContent)]
    return " ".join(texts) or "the tool reported an error without a message"
