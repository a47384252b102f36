"""Stdio servers in real child processes: a third-party server, crashes, concurrency, reaping."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from toolfoundry.mcp import (
    McpConfigError,
    McpConnectionManager,
    McpOutcomeUnknownError,
    McpServerConfig,
    McpTimeoutError,
    McpUnavailableError,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_leaked_children")]

ECHO_SCRIPT = Path(__file__).parent / "servers" / "echo_server.py"


def echo_config(**overrides: Any) -> McpServerConfig:
    fields: dict[str, Any] = {
        "name": "echo",
        "command": sys.executable,
        "args": [str(ECHO_SCRIPT), "stdio"],
        "health_interval": None,
    }
    return McpServerConfig.model_validate({**fields, **overrides})


async def eventually(condition: Callable[[], bool], seconds: float = 5) -> bool:
    """Poll an outside condition (a process table, a status) until it holds or time runs out."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


async def server_pid(manager: McpConnectionManager) -> int:
    result = await manager.call_tool("echo", "pid")
    return int(result.structured_content["result"])  # type: ignore[index]


async def test_mcp_server_time_lists_and_answers() -> None:
    command = Path(sys.executable).with_name("mcp-server-time")
    config = McpServerConfig(
        name="time", transport="stdio", command=str(command), args=["--local-timezone=UTC"]
    )
    async with McpConnectionManager() as manager:
        await manager.add(config)
        tools = {tool.name: tool for tool in await manager.list_tools("time")}
        assert {"get_current_time", "convert_time"} <= set(tools)
        assert "timezone" in tools["get_current_time"].input_schema["properties"]
        assert tools["get_current_time"].annotations.get("readOnlyHint") is True
        result = await manager.call_tool("time", "get_current_time", {"timezone": "Asia/Tokyo"})
        assert result.structured_content is not None
        assert result.structured_content["timezone"] == "Asia/Tokyo"
        assert manager.status("time").state == "connected"


async def test_fifty_concurrent_calls_share_one_child(processes: Any) -> None:
    before = processes.children()
    async with McpConnectionManager() as manager:
        await manager.add(echo_config())
        results = await asyncio.gather(
            *(manager.call_tool("echo", "echo", {"text": str(i)}) for i in range(50))
        )
        assert [r.content[0].text for r in results] == [str(i) for i in range(50)]  # type: ignore[union-attr]
        pids = {await server_pid(manager) for _ in range(3)}
        assert len(pids) == 1
        # One child: the reaper, with the server under it (see mcp/_reaper.py).
        (reaper,) = processes.children() - before
        assert {reaper} == {parent_of(pid) for pid in pids}


async def test_idle_stop_and_close_both_reap_the_child(processes: Any) -> None:
    manager = McpConnectionManager()
    await manager.add(echo_config(idle_timeout=0.3))
    idle = await server_pid(manager)
    assert await eventually(lambda: manager.status("echo").state == "stopped")
    # The child exits once its stdin closes.
    assert await eventually(lambda: processes.gone(idle))
    restarted = await server_pid(manager)  # lazily started again
    assert restarted != idle
    started = time.perf_counter()
    await manager.aclose()
    assert time.perf_counter() - started < 5
    assert processes.gone(restarted)


async def test_killed_server_is_restarted_by_the_next_call(processes: Any) -> None:
    async with McpConnectionManager() as manager:
        await manager.add(echo_config())
        first = await server_pid(manager)
        os.kill(first, signal.SIGKILL)
        # The first call meets the dead session: echo is not annotated idempotent, so it is not
        # repeated (its outcome is unknown to the client); the next one reconnects.
        with contextlib.suppress(McpOutcomeUnknownError):
            await manager.call_tool("echo", "echo", {"text": "lost"})
        result = await manager.call_tool("echo", "echo", {"text": "again"})
        assert result.content[0].text == "again"  # type: ignore[union-attr]
        second = await server_pid(manager)
        assert second != first
        assert processes.gone(first)
        status = manager.status("echo")
        assert status.state == "connected"
        assert "session lost" in (status.last_error or "")


async def test_health_ping_notices_a_crash_and_reconnects_in_the_background() -> None:
    async with McpConnectionManager() as manager:
        await manager.add(echo_config(health_interval=0.2, health_timeout=1))
        first = await server_pid(manager)
        os.kill(first, signal.SIGKILL)

        def reconnected() -> bool:
            status = manager.status("echo")
            return status.state == "connected" and status.last_error is not None

        assert await eventually(reconnected, seconds=10)
        assert "health ping failed" in (manager.status("echo").last_error or "")
        assert await server_pid(manager) != first


async def test_frozen_server_times_out_then_the_breaker_opens() -> None:
    async with McpConnectionManager() as manager:
        # The start (handshake, tools/list) keeps the default deadline: a loaded machine may
        # take longer than the calls' short one to launch Python.
        await manager.add(echo_config(breaker_threshold=2, breaker_cooldown=30))
        started = time.perf_counter()
        # The tool blocks the server's event loop: nothing, not even a ping, is answered.
        with pytest.raises(McpTimeoutError):
            await manager.call_tool("echo", "freeze", {"seconds": 30}, timeout=0.5)
        with pytest.raises(McpTimeoutError):
            await manager.call_tool("echo", "echo", {"text": "x"}, timeout=0.5)
        with pytest.raises(McpUnavailableError, match="circuit open"):
            await manager.call_tool("echo", "echo", {"text": "x"})
        assert time.perf_counter() - started < 3
        assert manager.status("echo").breaker == "open"
    # Closing kills the frozen child within the stdio shutdown bounds, not after 30 s.
    assert time.perf_counter() - started < 12


async def test_server_that_dies_at_start_reports_its_stderr(tmp_path: Path) -> None:
    script = tmp_path / "broken_server.py"
    script.write_text(
        "import sys\nprint('missing API key FOO_TOKEN', file=sys.stderr)\nsys.exit(3)\n"
    )
    config = McpServerConfig(
        name="broken", transport="stdio", command=sys.executable, args=[str(script)]
    )
    async with McpConnectionManager() as manager:
        with pytest.raises(McpConfigError) as info:
            await manager.add(config)
        assert "cannot register MCP server 'broken'" in str(info.value)
        assert "missing API key FOO_TOKEN" in str(info.value)
        assert "broken" not in manager
