"""Virtual servers: named views of the catalog, each its own MCP server — in memory through
`build_gateway(view=...)`, and over streamable HTTP at /mcp/{name} inside `toolfoundry serve`."""

from __future__ import annotations

import httpx
import pytest
import sample_tools
from fastapi import FastAPI
from fastmcp import Client
from fastmcp.exceptions import ToolError

from toolfoundry import ToolLibrary
from toolfoundry.gateway import build_gateway
from toolfoundry.registry.views import VirtualServer, VirtualServerSpec

META = {"discover_tools", "call_tool"}


@pytest.fixture
async def library_with_two_toolkits(library: ToolLibrary) -> ToolLibrary:
    await library.register_module(sample_tools)  # samples.*; samples.add is tagged "math"
    await library.register(sample_tools.change_case, toolkit="words")
    return library


async def _names(server: object) -> set[str]:
    async with Client(server) as client:  # type: ignore[arg-type]
        return {t.name for t in await client.list_tools()}


async def test_a_view_by_toolkit_lists_and_calls_only_its_tools(
    library_with_two_toolkits: ToolLibrary,
) -> None:
    library = library_with_two_toolkits
    view = await library.views.create(VirtualServerSpec(name="words", toolkits=["words"]))
    gateway = build_gateway(library, view=view, safe_names=False)
    async with Client(gateway) as client:
        names = {t.name for t in await client.list_tools()}
        assert names == META | {"words.change_case"}  # no builds unless the view allows them
        result = await client.call_tool("words.change_case", {"text": "hi"})
        assert result.structured_content == {"result": "HI"}
        via_meta = await client.call_tool(
            "call_tool", {"name": "words.change_case", "arguments": {"text": "Yo", "mode": "lower"}}
        )
        assert via_meta.structured_content["result"] == "yo"

        # Outside the view: neither listed nor callable, directly or through call_tool.
        with pytest.raises(ToolError, match="Unknown tool"):
            await client.call_tool("samples.add", {"a": 1})
        with pytest.raises(ToolError, match="not part of the virtual server 'words'"):
            await client.call_tool("call_tool", {"name": "samples.add", "arguments": {"a": 1}})
        with pytest.raises(ToolError, match="not part of the virtual server"):
            await client.call_tool("call_tool", {"name": "samples__add", "arguments": {"a": 1}})

        found = await client.call_tool("discover_tools", {"query": "change the case of text"})
        assert [t["name"] for t in found.structured_content["tools"]] == ["words.change_case"]
    # Nothing outside the view ran.
    assert [c.tool_id for c in await library.recent_calls()] == ["words.change_case"] * 2


async def test_views_by_tag_and_by_tool_list_and_with_builds(
    library_with_two_toolkits: ToolLibrary,
) -> None:
    library = library_with_two_toolkits
    by_tag = VirtualServer(name="math", tags=["math"])
    assert await _names(build_gateway(library, view=by_tag, safe_names=False)) == META | {
        "samples.add"
    }
    listed = VirtualServer(name="pick", tools=["samples.divide", "words__change_case"])
    assert await _names(build_gateway(library, view=listed, safe_names=True)) == META | {
        "samples__divide",
        "words__change_case",
    }
    mixed = VirtualServer(name="mix", toolkits=["words"], tags=["math"], allow_builds=True)
    assert await _names(build_gateway(library, view=mixed, safe_names=False)) == META | {
        "samples.add",
        "words.change_case",
        "build_tool",
        "build_status",
    }


async def test_a_meta_only_view_lists_only_meta_tools_and_reaches_only_its_tools(
    library_with_two_toolkits: ToolLibrary,
) -> None:
    library = library_with_two_toolkits
    view = VirtualServer(name="samples-meta", toolkits=["samples"], meta_only=True)
    async with Client(build_gateway(library, view=view)) as client:
        assert {t.name for t in await client.list_tools()} == META
        found = await client.call_tool("discover_tools", {"query": "change the case of a text"})
        names = [t["name"] for t in found.structured_content["tools"]]
        assert names and all(n.startswith("samples") for n in names)
        done = await client.call_tool("call_tool", {"name": "samples.add", "arguments": {"a": 4}})
        assert done.structured_content["result"] == 6
        with pytest.raises(ToolError, match="not part of the virtual server 'samples-meta'"):
            await client.call_tool("call_tool", {"name": "words.change_case", "arguments": {}})


async def test_a_view_sees_tools_registered_later(library: ToolLibrary) -> None:
    view = VirtualServer(name="later", toolkits=["samples"])
    async with Client(build_gateway(library, view=view, safe_names=False)) as client:
        assert {t.name for t in await client.list_tools()} == META
        await library.register(sample_tools.add)
        await library.register(sample_tools.change_case, toolkit="words")
        assert {t.name for t in await client.list_tools()} == META | {"samples.add"}


async def test_views_over_streamable_http_created_at_run_time(
    served: tuple[str, FastAPI], admin_token: str, auth_headers: dict[str, str]
) -> None:
    base, app = served
    library: ToolLibrary = app.state.library
    await library.register_module(sample_tools)
    await library.register(sample_tools.change_case, toolkit="words")
    async with httpx.AsyncClient(base_url=base, headers=auth_headers) as http:
        created = await http.post(
            "/api/v1/virtual-servers", json={"name": "words", "toolkits": ["words"]}
        )
        assert created.status_code == 201 and created.json()["endpoint"] == "/mcp/words"
        meta = await http.post("/api/v1/virtual-servers", json={"name": "meta", "meta_only": True})
        assert meta.status_code == 201

        async with Client(f"{base}/mcp/words", auth=admin_token) as client:
            assert {t.name for t in await client.list_tools()} == META | {"words.change_case"}
            result = await client.call_tool(
                "call_tool", {"name": "words.change_case", "arguments": {"text": "ok"}}
            )
            assert result.structured_content["result"] == "OK"
            with pytest.raises(ToolError, match="not part of the virtual server"):
                await client.call_tool("call_tool", {"name": "samples.add", "arguments": {"a": 1}})
        async with Client(f"{base}/mcp/meta", auth=admin_token) as client:
            assert {t.name for t in await client.list_tools()} == META
        async with Client(f"{base}/mcp", auth=admin_token) as client:  # the whole catalog still
            assert "samples.add" in {t.name for t in await client.list_tools()}

        # The same bearer auth as /mcp; unknown views are a 404 problem.
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
        async with httpx.AsyncClient(base_url=base) as stranger:
            anonymous = await stranger.post("/mcp/words", json=initialize)
        assert anonymous.status_code == 401
        slash = await http.post("/mcp/", json=initialize)  # still the whole-catalog gateway
        assert slash.status_code == 307 and slash.headers["location"].endswith("/mcp")
        missing = await http.post("/mcp/nope", json=initialize)
        assert missing.status_code == 404 and "No virtual server named 'nope'" in missing.text

        # Removed: the endpoint stops answering at once.
        assert (await http.delete("/api/v1/virtual-servers/words")).status_code == 200
        gone = await http.post("/mcp/words", json=initialize)
        assert gone.status_code == 404
