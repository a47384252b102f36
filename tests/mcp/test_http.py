"""Streamable HTTP and SSE servers in child processes: restarts, expiry, failover, breaker."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from toolfoundry.mcp import (
    McpConfigError,
    McpConnectionManager,
    McpOutcomeUnknownError,
    McpServerConfig,
    McpUnavailableError,
)

pytestmark = pytest.mark.slow


def remote_config(server: Any, **overrides: Any) -> McpServerConfig:
    fields: dict[str, Any] = {
        "name": "remote",
        "transport": server.transport,
        "url": server.url,
        "health_interval": None,
        "init_timeout": 5,
    }
    return McpServerConfig.model_validate({**fields, **overrides})


async def echo(manager: McpConnectionManager, text: str) -> str:
    result = await manager.call_tool("remote", "echo", {"text": text})
    return result.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_restarted_server_is_transparent_to_the_next_call(
    transport: str, subprocess_server: Any
) -> None:
    server = await subprocess_server(transport)
    async with McpConnectionManager() as manager:
        await manager.add(remote_config(server))
        tools = await manager.list_tools("remote")
        assert "echo" in {tool.name for tool in tools}
        assert await echo(manager, "before") == "before"
        server.kill()
        await server.start()
        # The old session died with the old process: re-initialize and retry, unseen.
        assert await echo(manager, "after") == "after"
        status = manager.status("remote")
        assert status.state == "connected"
        assert status.endpoint == server.url
        assert "session lost" in (status.last_error or "")


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_a_call_the_server_received_is_not_repeated_when_it_dies(
    transport: str, subprocess_server: Any
) -> None:
    """The transport tells "never sent" (retried above) from "received, then the server died":
    the latter may have run, so at most once holds over HTTP too."""
    server = await subprocess_server(transport)
    async with McpConnectionManager() as manager:
        await manager.add(remote_config(server, call_timeout=30))
        assert await echo(manager, "up") == "up"
        call = asyncio.create_task(manager.call_tool("remote", "hang"))
        await asyncio.sleep(1)  # the POST is in and the tool is running
        server.kill()
        with pytest.raises(McpOutcomeUnknownError, match="outcome is unknown"):
            await call
        await server.start()
        assert await echo(manager, "again") == "again"


async def test_down_server_fails_fast_then_recovers_after_restart(subprocess_server: Any) -> None:
    server = await subprocess_server("http")
    async with McpConnectionManager() as manager:
        await manager.add(remote_config(server, breaker_threshold=2, breaker_cooldown=0.5))
        assert await echo(manager, "up") == "up"
        server.kill()
        started = time.perf_counter()
        for _ in range(2):
            with pytest.raises(McpUnavailableError, match="could not connect to MCP server"):
                await echo(manager, "down")
        with pytest.raises(McpUnavailableError, match="circuit open") as info:
            await echo(manager, "down")
        assert time.perf_counter() - started < 5
        assert info.value.retry_after is not None
        assert manager.status("remote").state == "unhealthy"
        await server.start()
        await asyncio.sleep(0.5)  # the cool-down, then one probe is let through
        assert await echo(manager, "back") == "back"
        status = manager.status("remote")
        assert (status.state, status.breaker) == ("connected", "closed")


async def test_expired_http_session_is_reinitialized(subprocess_server: Any) -> None:
    server = await subprocess_server("http")
    async with McpConnectionManager() as manager:
        await manager.add(remote_config(server))
        expired = await manager.call_tool("remote", "expire")
        # The server now answers 404 "Session not found" for that session.
        assert await echo(manager, "two") == "two"
        assert "Session not found" in (manager.status("remote").last_error or "")
        renewed = await manager.call_tool("remote", "expire")
        assert renewed.content[0].text != expired.content[0].text  # type: ignore[union-attr]


async def test_failover_url_is_used_when_the_first_is_down(
    subprocess_server: Any, dead_url: str
) -> None:
    server = await subprocess_server("http")
    config = remote_config(server, url=dead_url, failover_urls=[server.url])
    async with McpConnectionManager() as manager:
        await manager.add(config)
        assert await echo(manager, "via failover") == "via failover"
        status = manager.status("remote")
        assert status.endpoint == server.url
        assert status.tool_count > 0


async def test_unreachable_url_is_a_clear_registration_error(dead_url: str) -> None:
    config = McpServerConfig(name="nowhere", transport="http", url=dead_url, init_timeout=5)
    started = time.perf_counter()
    async with McpConnectionManager() as manager:
        with pytest.raises(McpConfigError) as info:
            await manager.add(config)
        message = str(info.value)
        assert "cannot register MCP server 'nowhere'" in message
        assert dead_url in message
        assert "check that the server is running and reachable" in message
        assert manager.names() == []
    assert time.perf_counter() - started < 5


async def test_tools_list_changed_arrives_over_http(subprocess_server: Any) -> None:
    server = await subprocess_server("http")
    changed = asyncio.Event()
    async with McpConnectionManager() as manager:
        manager.on_tools_changed(lambda name, tools: changed.set())
        await manager.add(remote_config(server))
        await manager.call_tool("remote", "grow", {"name": "sprout"})
        await asyncio.wait_for(changed.wait(), 5)
        assert "sprout" in {tool.name for tool in await manager.list_tools("remote")}
