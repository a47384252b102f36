"""McpConnectionManager over in-memory servers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastmcp import FastMCP

from toolfoundry.mcp import (
    McpConfigError,
    McpConnectionManager,
    McpNotFoundError,
    McpServerConfig,
    McpToolError,
    McpToolInfo,
)


def config(name: str = "memory", **overrides: Any) -> McpServerConfig:
    fields: dict[str, Any] = {"name": name, "command": "unused", "health_interval": None}
    return McpServerConfig.model_validate({**fields, **overrides})


async def test_add_connects_and_lists_tools(memory_server: Any) -> None:
    async with McpConnectionManager() as manager:
        connection = await manager.add(config(), server=memory_server.server)
        assert memory_server.initializations == 1
        assert "memory" in manager and manager.names() == ["memory"]
        assert manager.get("memory") is connection
        tools = await manager.list_tools("memory")
        assert "echo" in {tool.name for tool in tools}
        result = await manager.call_tool("memory", "echo", {"text": "hi"})
        assert result.content[0].text == "hi"  # type: ignore[union-attr]
        assert manager.status("memory").state == "connected"
        assert [status.name for status in manager.statuses()] == ["memory"]
    assert manager.names() == []
    assert connection.status().state == "stopped"


async def test_add_without_connect_starts_on_first_use(memory_server: Any) -> None:
    async with McpConnectionManager() as manager:
        await manager.add(config(), server=memory_server.server, connect=False)
        assert memory_server.initializations == 0
        assert manager.status("memory").state == "stopped"
        assert "echo" in {tool.name for tool in await manager.list_tools("memory")}
        assert memory_server.initializations == 1


async def test_tool_error_raises_with_the_result(memory_server: Any) -> None:
    async with McpConnectionManager() as manager:
        await manager.add(config(), server=memory_server.server)
        with pytest.raises(
            McpToolError, match=r"tool 'fail' on MCP server 'memory' failed: .*broken"
        ) as info:
            await manager.call_tool("memory", "fail", {"message": "broken"})
        assert info.value.result is not None and info.value.result.is_error
        result = await manager.call_tool("memory", "fail", {"message": "x"}, raise_on_error=False)
        assert result.is_error


async def test_unknown_tool_is_a_tool_error(memory_server: Any) -> None:
    async with McpConnectionManager() as manager:
        await manager.add(config(), server=memory_server.server)
        with pytest.raises(McpToolError, match="Unknown tool"):
            await manager.call_tool("memory", "nope")


async def test_duplicate_name_is_rejected(memory_server: Any) -> None:
    async with McpConnectionManager() as manager:
        await manager.add(config(), server=memory_server.server)
        with pytest.raises(McpConfigError, match="'memory' is already registered"):
            await manager.add(config(), server=memory_server.server)


async def test_unknown_server_is_not_found() -> None:
    async with McpConnectionManager() as manager:
        with pytest.raises(McpNotFoundError, match="no MCP server named 'ghost'"):
            await manager.call_tool("ghost", "echo")
        with pytest.raises(McpNotFoundError):
            await manager.remove("ghost")
        with pytest.raises(McpNotFoundError):
            manager.status("ghost")


async def test_failed_add_keeps_nothing() -> None:
    from fastmcp.server.middleware import Middleware

    class RefuseInitialize(Middleware):
        async def on_initialize(self, context: Any, call_next: Any) -> Any:
            raise RuntimeError("no sessions today")

    server: FastMCP[Any] = FastMCP("refuses")
    server.add_middleware(RefuseInitialize())
    async with McpConnectionManager() as manager:
        with pytest.raises(McpConfigError, match="cannot register MCP server 'refuses'"):
            await manager.add(config("refuses", init_timeout=2), server=server)
        assert "refuses" not in manager
        assert manager.statuses() == []


async def test_missing_command_is_a_config_error() -> None:
    async with McpConnectionManager() as manager:
        with pytest.raises(McpConfigError, match="command 'no-such-mcp-server' was not found"):
            await manager.add(
                McpServerConfig(name="x", transport="stdio", command="no-such-mcp-server")
            )
        assert manager.names() == []


async def test_remove_closes_the_connection(memory_server: Any) -> None:
    async with McpConnectionManager() as manager:
        connection = await manager.add(config(), server=memory_server.server)
        await manager.remove("memory")
        assert "memory" not in manager
        assert connection.status().state == "stopped"


async def test_refresh_and_tools_changed_callbacks(memory_server: Any) -> None:
    seen: asyncio.Queue[tuple[str, list[McpToolInfo]]] = asyncio.Queue()
    synchronous: list[str] = []
    async with McpConnectionManager() as manager:

        @manager.on_tools_changed
        async def record(name: str, tools: list[McpToolInfo]) -> None:
            await seen.put((name, tools))

        manager.on_tools_changed(lambda name, tools: synchronous.append(name))
        await manager.add(config(), server=memory_server.server)
        memory_server.server.add_tool(memory_server.server.tool(lambda: "b", name="added"))
        tools = await manager.refresh("memory")
        assert "added" in {tool.name for tool in tools}
        name, listed = await asyncio.wait_for(seen.get(), 2)
        assert name == "memory" and listed == tools
        assert synchronous == ["memory"]


async def test_a_failing_callback_does_not_break_the_others(memory_server: Any) -> None:
    calls: list[str] = []
    async with McpConnectionManager() as manager:

        def broken(name: str, tools: list[McpToolInfo]) -> None:
            raise RuntimeError("callback bug")

        manager.on_tools_changed(broken)
        manager.on_tools_changed(lambda name, tools: calls.append(name))
        await manager.add(config(), server=memory_server.server)
        await manager.call_tool("memory", "grow", {"name": "sprout"})
        for _ in range(100):
            if calls:
                break
            await asyncio.sleep(0.02)
        assert calls == ["memory"]
