"""McpConnection against fastmcp in-memory servers: fast, no subprocesses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastmcp import FastMCP

from toolfoundry.mcp import (
    McpConnection,
    McpServerConfig,
    McpTimeoutError,
    McpToolInfo,
    McpUnavailableError,
)


def config(**overrides: Any) -> McpServerConfig:
    fields: dict[str, Any] = {"name": "memory", "command": "unused", "health_interval": None}
    return McpServerConfig.model_validate({**fields, **overrides})


@pytest.fixture
async def connection(memory_server: Any) -> AsyncIterator[McpConnection]:
    connection = McpConnection(config(), server=memory_server.server)
    yield connection
    await connection.close()


async def test_starts_lazily_then_lists_and_calls(
    connection: McpConnection, memory_server: Any
) -> None:
    assert connection.status().state == "stopped"
    assert memory_server.initializations == 0
    tools = await connection.start()
    names = {tool.name for tool in tools}
    assert {"echo", "fail", "hang", "grow"} <= names
    echo = next(tool for tool in tools if tool.name == "echo")
    assert echo.input_schema["required"] == ["text"]
    result = await connection.call_tool("echo", {"text": "hi"})
    assert not result.is_error
    assert result.content[0].text == "hi"  # type: ignore[union-attr]
    assert result.structured_content == {"result": "hi"}
    status = connection.status()
    assert status.state == "connected"
    assert status.breaker == "closed"
    assert status.tool_count == len(tools)
    assert status.connected_since is not None
    assert status.latency_ms is not None and status.latency_ms > 0


async def test_ping_reports_milliseconds(connection: McpConnection) -> None:
    assert 0 < await connection.ping() < 1000


async def test_tool_failure_is_a_result_not_an_exception(connection: McpConnection) -> None:
    result = await connection.call_tool("fail", {"message": "boom"})
    assert result.is_error
    assert "boom" in result.content[0].text  # type: ignore[union-attr]
    assert connection.status().breaker == "closed"  # the server answered: it is healthy


async def test_concurrent_calls_share_one_session(
    connection: McpConnection, memory_server: Any
) -> None:
    results = await asyncio.gather(*(connection.call_tool("session") for _ in range(50)))
    session_ids = {result.structured_content["result"] for result in results}  # type: ignore[index]
    assert len(session_ids) == 1
    assert memory_server.initializations == 1


async def test_timeouts_open_the_breaker_which_then_fails_fast(memory_server: Any) -> None:
    connection = McpConnection(
        config(breaker_threshold=2, breaker_cooldown=30), server=memory_server.server
    )
    try:
        for _ in range(2):
            with pytest.raises(McpTimeoutError, match="did not answer tools/call 'hang' in time"):
                await connection.call_tool("hang", timeout=0.2)
        started = time.perf_counter()
        with pytest.raises(McpUnavailableError, match="circuit open after 2") as info:
            await connection.call_tool("echo", {"text": "x"})
        assert time.perf_counter() - started < 0.05
        assert info.value.retry_after is not None and 29 < info.value.retry_after <= 30
        status = connection.status()
        assert status.breaker == "open"
        assert status.state == "unhealthy"
        assert status.consecutive_failures == 2
    finally:
        await connection.close()


async def test_half_open_probe_closes_the_breaker_again(memory_server: Any) -> None:
    clock_offset = [0.0]

    def clock() -> float:
        return time.monotonic() + clock_offset[0]

    connection = McpConnection(
        config(breaker_threshold=1, breaker_cooldown=10), server=memory_server.server, clock=clock
    )
    try:
        with pytest.raises(McpTimeoutError):
            await connection.call_tool("hang", timeout=0.1)
        with pytest.raises(McpUnavailableError):
            await connection.call_tool("echo", {"text": "x"})
        clock_offset[0] = 10.0
        assert connection.status().breaker == "half_open"
        result = await connection.call_tool("echo", {"text": "probe"})
        assert not result.is_error
        assert connection.status().breaker == "closed"
    finally:
        await connection.close()


async def test_tools_list_changed_triggers_the_callback(memory_server: Any) -> None:
    changed: asyncio.Queue[tuple[str, list[McpToolInfo]]] = asyncio.Queue()

    async def on_changed(name: str, tools: list[McpToolInfo]) -> None:
        await changed.put((name, tools))

    connection = McpConnection(config(), server=memory_server.server, on_tools_changed=on_changed)
    try:
        before = await connection.start()
        await connection.call_tool("grow", {"name": "sprout"})
        name, tools = await asyncio.wait_for(changed.get(), 5)
        assert name == "memory"
        assert {tool.name for tool in tools} - {tool.name for tool in before} == {"sprout"}
        assert connection.status().tool_count == len(before) + 1
        assert (await connection.call_tool("sprout")).content[0].text == "sprout"  # type: ignore[union-attr]
    finally:
        await connection.close()


async def test_listing_without_changes_does_not_call_back(memory_server: Any) -> None:
    calls: list[str] = []
    connection = McpConnection(
        config(),
        server=memory_server.server,
        on_tools_changed=lambda name, tools: calls.append(name),
    )
    try:
        await connection.start()
        await connection.list_tools()
        assert calls == []
    finally:
        await connection.close()


async def test_idle_session_stops_and_restarts_on_next_use(memory_server: Any) -> None:
    connection = McpConnection(config(idle_timeout=0.2), server=memory_server.server)
    try:
        await connection.call_tool("echo", {"text": "a"})
        await asyncio.sleep(0.5)
        assert connection.status().state == "stopped"
        await connection.call_tool("echo", {"text": "b"})
        assert connection.status().state == "connected"
        assert memory_server.initializations == 2
    finally:
        await connection.close()


async def test_a_long_call_is_not_cut_by_the_idle_stop(memory_server: Any) -> None:
    connection = McpConnection(config(idle_timeout=0.1), server=memory_server.server)
    try:
        result = await connection.call_tool("slow", {"seconds": 0.4})
        assert result.content[0].text == "done"  # type: ignore[union-attr]
    finally:
        await connection.close()


async def test_closed_connection_refuses_requests(connection: McpConnection) -> None:
    await connection.call_tool("echo", {"text": "a"})
    await connection.close()
    assert connection.status().state == "stopped"
    with pytest.raises(McpUnavailableError, match="is closed"):
        await connection.call_tool("echo", {"text": "a"})


async def test_init_timeout_is_enforced() -> None:
    from fastmcp.server.middleware import Middleware

    class StallInitialize(Middleware):
        async def on_initialize(self, context: Any, call_next: Any) -> Any:
            await asyncio.sleep(3600)

    server: FastMCP[Any] = FastMCP("stalls")
    server.add_middleware(StallInitialize())
    connection = McpConnection(config(init_timeout=0.3), server=server)
    started = time.perf_counter()
    try:
        with pytest.raises(McpUnavailableError, match=r"no answer to initialize within 0\.3s"):
            await connection.start()
        assert time.perf_counter() - started < 5
        assert connection.status().state == "unhealthy"
    finally:
        await connection.close()


async def test_cancelled_caller_does_not_break_the_shared_connect(memory_server: Any) -> None:
    connection = McpConnection(config(), server=memory_server.server)
    try:
        first = asyncio.create_task(connection.call_tool("echo", {"text": "a"}))
        await asyncio.sleep(0)
        first.cancel()
        result = await connection.call_tool("echo", {"text": "b"})
        assert result.content[0].text == "b"  # type: ignore[union-attr]
        assert memory_server.initializations == 1
    finally:
        await connection.close()


async def test_a_caller_bug_does_not_cost_the_session(
    connection: McpConnection, memory_server: Any
) -> None:
    await connection.call_tool("echo", {"text": "a"})
    with pytest.raises(ValueError, match="Unable to serialize"):
        await connection.call_tool("echo", {"text": object()})
    await connection.call_tool("echo", {"text": "b"})
    assert memory_server.initializations == 1
    assert connection.status().breaker == "closed"
