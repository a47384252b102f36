"""MCP servers in the catalog: registration, dispatch through library.call, refresh, removal."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import mcp_types
import pytest
from fastmcp import Context, FastMCP

from toolfoundry import Settings, ToolLibrary
from toolfoundry.core.errors import (
    ArgumentsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)

ECHO_SERVER = Path(__file__).parents[1] / "mcp" / "servers" / "echo_server.py"
QUIET = {"FASTMCP_SHOW_SERVER_BANNER": "false", "FASTMCP_CHECK_FOR_UPDATES": "off"}


def weather_server() -> FastMCP:
    server = FastMCP("weather")

    @server.tool
    def forecast(city: str, days: int = 1) -> dict:
        """Forecast the weather for a city."""
        return {"city": city, "days": days, "sky": "clear"}

    @server.tool(name="wind.speed")
    def wind_speed(city: str) -> float:
        """Wind speed in km/h."""
        return 12.5

    return server


async def test_register_in_memory_server_and_call(library: ToolLibrary) -> None:
    info = await library.add_mcp_server(
        {"name": "weather", "command": "unused"}, server=weather_server()
    )
    assert info.tools == ["weather.forecast", "weather.wind_speed"]
    assert info.status is not None and info.status.state == "connected"
    tool = await library.get_tool("weather.forecast")
    assert tool.kind == "mcp" and tool.input_schema["required"] == ["city"]
    result = await library.call("weather.forecast", {"city": "Oslo", "days": 2})
    assert result.structured == {"city": "Oslo", "days": 2, "sky": "clear"}
    wind = await library.call("weather.wind_speed", {"city": "Oslo"})
    assert wind.structured == {"result": 12.5}  # the server wraps non-object outputs
    with pytest.raises(ArgumentsError) as info_err:
        await library.call("weather.forecast", {"days": 2})
    assert info_err.value.errors[0]["message"]
    calls = await library.recent_calls(tool_id="weather.forecast")
    assert [c.success for c in calls] == [False, True]


async def test_bad_registrations_leave_nothing(library: ToolLibrary) -> None:
    with pytest.raises(InvalidInputError, match="unknown transport"):
        await library.add_mcp_server({"name": "x", "transport": "carrier-pigeon", "command": "a"})
    with pytest.raises(InvalidInputError, match="command"):
        await library.add_mcp_server({"name": "x", "transport": "stdio"})
    with pytest.raises(InvalidInputError, match="not found"):
        await library.add_mcp_server({"name": "x", "command": "/nonexistent/server-binary"})
    with pytest.raises(InvalidInputError):
        await library.add_mcp_server(
            {"name": "x", "url": "http://127.0.0.1:9/mcp", "init_timeout": 2}
        )
    assert await library.list_mcp_servers() == []
    assert await library.list_tools() == []
    assert "x" not in library.mcp


async def test_duplicate_name_conflicts(library: ToolLibrary) -> None:
    await library.add_mcp_server({"name": "weather", "command": "unused"}, server=weather_server())
    with pytest.raises(ConflictError):
        await library.add_mcp_server(
            {"name": "weather", "command": "unused"}, server=weather_server()
        )
    assert len(await library.list_mcp_servers()) == 1


async def test_tools_follow_the_server(library: ToolLibrary) -> None:
    server = weather_server()
    await library.add_mcp_server({"name": "weather", "command": "unused"}, server=server)

    @server.tool
    def alerts(region: str) -> list[str]:
        """Severe weather alerts."""
        return []

    server.local_provider.remove_tool("forecast")
    info = await library.refresh_mcp_server("weather")
    assert "weather.alerts" in info.tools
    tools = {t.id: t for t in await library.list_tools(toolkit="weather")}
    assert tools["weather.alerts"].enabled
    assert not tools["weather.forecast"].enabled  # disappeared: disabled, not deleted
    with pytest.raises(NotFoundError, match="disabled"):
        await library.call("weather.forecast", {"city": "Oslo"})


async def test_remove_server_removes_its_tools(library: ToolLibrary) -> None:
    await library.add_mcp_server({"name": "weather", "command": "unused"}, server=weather_server())
    removed = await library.remove_mcp_server("weather")
    assert removed == ["weather.forecast", "weather.wind_speed"]
    assert await library.list_tools() == []
    with pytest.raises(NotFoundError):
        await library.get_mcp_server("weather")
    with pytest.raises(NotFoundError):
        await library.remove_mcp_server("weather")


@pytest.mark.slow
async def test_third_party_stdio_server_survives_restart(settings: Settings) -> None:
    """mcp-server-time from PyPI over stdio: registered once, callable after a restart."""
    command = shutil.which("mcp-server-time", path=str(Path(sys.executable).parent))
    assert command, "mcp-server-time is a test dependency"
    async with ToolLibrary.open(settings) as library:
        info = await library.add_mcp_server({"name": "time", "command": command})
        assert "time.get_current_time" in info.tools
        result = await library.call("time.get_current_time", {"timezone": "Europe/Oslo"})
        assert not result.is_error and "Europe/Oslo" in result.content
    async with ToolLibrary.open(settings) as library:
        assert library.mcp.status("time").state == "stopped"  # lazy: starts on first call
        result = await library.call(
            "time.convert_time",
            {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"},
        )
        assert not result.is_error and "21:00" in result.content
        assert library.mcp.status("time").state == "connected"


@pytest.mark.slow
async def test_killed_server_recovers_on_next_call(settings: Settings) -> None:
    async with ToolLibrary.open(settings) as library:
        await library.add_mcp_server(
            {
                "name": "echo",
                "command": sys.executable,
                "args": [str(ECHO_SERVER), "stdio"],
                "env": QUIET,
                # The kill races the next call: a call written before the session
                # notices EOF has an unknown outcome, retried only when retry-safe.
                "retry_safe_tools": ["echo", "pid"],
            }
        )
        first = (await library.call("echo.pid", {})).structured
        import os
        import signal

        os.kill(int(first["result"] if isinstance(first, dict) else first), signal.SIGKILL)
        result = await library.call("echo.echo", {"text": "still here"})
        assert result.structured in ("still here", {"result": "still here"})
        second = (await library.call("echo.pid", {})).structured
        assert second != first


async def test_server_announced_tools_join_the_catalog(library: ToolLibrary) -> None:
    """`notifications/tools/list_changed` from the server: the catalog follows on its own."""
    server = weather_server()

    @server.tool
    async def grow(name: str, ctx: Context) -> str:
        """Add a tool called `name` and tell the client."""

        def added() -> str:
            return name

        server.add_tool(server.tool(added, name=name))
        await ctx.send_notification(mcp_types.ToolListChangedNotification())
        return name

    await library.add_mcp_server({"name": "weather", "command": "unused"}, server=server)
    await library.call("weather.grow", {"name": "sprout"})
    async with asyncio.timeout(5):
        while "weather.sprout" not in library.table.ids():  # noqa: ASYNC110 - no event to wait on
            await asyncio.sleep(0.05)
    assert (await library.call("weather.sprout", {})).structured in ("sprout", {"result": "sprout"})
    assert "weather.sprout" in (await library.get_mcp_server("weather")).tools
