"""The catalog served as an MCP server, exercised by a real fastmcp client (in-memory transport)."""

from __future__ import annotations

import pytest
import sample_tools
from fastmcp import Client
from fastmcp.exceptions import ToolError
from mcp.shared.exceptions import MCPError

from toolfoundry import ToolLibrary
from toolfoundry.gateway import build_gateway


@pytest.fixture
async def library_with_samples(library: ToolLibrary) -> ToolLibrary:
    await library.register_module(sample_tools)
    return library


async def test_lists_enabled_tools_and_meta_tools(library_with_samples: ToolLibrary) -> None:
    await library_with_samples.set_state("samples.divide", enabled=False)
    async with Client(build_gateway(library_with_samples)) as client:
        tools = {t.name: t for t in await client.list_tools()}
    assert {"discover_tools", "call_tool", "samples.add", "samples.change_case"} <= set(tools)
    assert "samples.divide" not in tools
    assert tools["samples.change_case"].input_schema["properties"]["mode"]["enum"] == [
        "upper",
        "lower",
    ]


async def test_calls_catalog_tools_through_the_dispatcher(
    library_with_samples: ToolLibrary,
) -> None:
    async with Client(build_gateway(library_with_samples)) as client:
        result = await client.call_tool("samples.add", {"a": 2, "b": 5})
        assert result.structured_content == {"result": 7}
        result = await client.call_tool("samples.total_quantity", {"items": [{"name": "x"}]})
        assert result.structured_content == {"total": 1, "lines": 1}
        with pytest.raises(ToolError, match="a"):
            await client.call_tool("samples.add", {"a": "many"})
        failed = await client.call_tool("samples.divide", {"a": 1, "b": 0}, raise_on_error=False)
        assert failed.is_error and "ZeroDivisionError" in failed.content[0].text
    calls = await library_with_samples.recent_calls()
    assert [c.tool_id for c in calls][:2] == ["samples.divide", "samples.add"]


async def test_new_tools_appear_without_restart(library: ToolLibrary) -> None:
    async with Client(build_gateway(library)) as client:
        before = {t.name for t in await client.list_tools()}
        await library.register(sample_tools.add)
        after = {t.name for t in await client.list_tools()}
    assert "samples.add" not in before and "samples.add" in after


async def test_meta_only_and_call_tool(library_with_samples: ToolLibrary) -> None:
    async with Client(build_gateway(library_with_samples, meta_only=True)) as client:
        names = {t.name for t in await client.list_tools()}
        assert names == {"discover_tools", "call_tool", "build_tool", "build_status"}
        result = await client.call_tool("call_tool", {"name": "samples.add", "arguments": {"a": 1}})
        assert result.structured_content == {"tool": "samples.add@1.0.0", "result": 3}
        with pytest.raises(ToolError, match=r"samples\.add"):
            await client.call_tool("call_tool", {"name": "samples.ad", "arguments": {}})


async def test_gateway_over_streamable_http_inside_serve(served, admin_token) -> None:  # type: ignore[no-untyped-def]
    """`toolfoundry serve` exposes the gateway at /mcp next to the REST API."""
    import httpx

    base, app = served
    async with Client(f"{base}/mcp", auth=admin_token) as client:
        names = {t.name for t in await client.list_tools()}
        assert {"discover_tools", "call_tool"} <= names
        with pytest.raises(ToolError, match="No tool named"):  # past the scope check
            await client.call_tool("call_tool", {"name": "samples.add", "arguments": {}})
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{base}/health")).json() == {"status": "ok"}
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
        refused = await http.post(f"{base}/mcp", json=initialize)
        assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
        assert refused.headers["www-authenticate"].startswith("Bearer")
    with pytest.raises(MCPError, match="error response"):  # the client sees no session
        async with Client(f"{base}/mcp") as anonymous:
            await anonymous.list_tools()

    # A `read` token lists and discovers; calling a tool needs `call`.
    from toolfoundry.auth import TokenStore

    store = TokenStore(app.state.library.catalog.sessions)
    _, reader = await store.create("mcp-reader", ["read"])
    async with Client(f"{base}/mcp", auth=reader) as client:
        assert "call_tool" in {t.name for t in await client.list_tools()}
        found = await client.call_tool("discover_tools", {"query": "anything"})
        assert "tools" in found.structured_content
        with pytest.raises(ToolError, match="needs the 'call' scope"):
            await client.call_tool("call_tool", {"name": "samples.add", "arguments": {}})


@pytest.mark.slow
async def test_gateway_over_stdio(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`toolfoundry mcp serve --stdio`, launched as a real subprocess by an MCP client."""
    import sys
    from pathlib import Path

    from fastmcp.client.transports import StdioTransport

    cli = Path(sys.executable).parent / "toolfoundry"
    transport = StdioTransport(
        command=str(cli),
        args=["mcp", "serve", "--stdio"],
        env={"TOOLFOUNDRY_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    async with Client(transport) as client:
        names = {t.name for t in await client.list_tools()}
        # Starter toolkits are loaded, under the names OpenAI-style clients accept (stdio's
        # default); the dotted id is still understood.
        assert "stats__descriptive_statistics" in names
        result = await client.call_tool("stats__descriptive_statistics", {"values": [1, 2, 3]})
        assert result.structured_content["mean"] == 2
        result = await client.call_tool("stats.descriptive_statistics", {"values": [1, 2, 3, 4]})
        assert result.structured_content["mean"] == 2.5


async def test_call_tool_records_a_trajectory_step(library_with_samples: ToolLibrary) -> None:
    library = library_with_samples
    gateway = Client(build_gateway(library, meta_only=True))
    async with library.trajectory("add one and two") as run, gateway as client:
        arguments = {"name": "samples.add", "arguments": {"a": 1, "b": 2}}
        result = await client.call_tool("call_tool", {**arguments, "trajectory_id": run.id})
        assert result.structured_content == {"tool": "samples.add@1.0.0", "result": 3}
        with pytest.raises(ToolError, match="no trajectory 'tr_nope'"):
            await client.call_tool("call_tool", {**arguments, "trajectory_id": "tr_nope"})
    stored = await library.trajectories.get(run.id)
    assert [(s.tool_id, s.success) for s in stored.steps or []] == [("samples.add", True)]
    assert len(await library.recent_calls()) == 1  # refused before the tool ran
