"""What an MCP client expects of the gateway: list-changed notifications, progress and rich
content from upstream servers, readable errors, names any model accepts, its own identity."""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any

import mcp_types
import pytest
import sample_tools
from fastmcp import Client, Context, FastMCP
from fastmcp.exceptions import ToolError
from fastmcp.utilities.types import Image
from mcp.client.subscriptions import listen
from mcp.shared.subscriptions import ToolsListChanged

from toolfoundry import ToolLibrary, __version__
from toolfoundry.gateway import build_gateway

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def media_server() -> FastMCP:
    server = FastMCP("media")

    @server.tool
    def logo() -> Image:
        """A one-pixel PNG."""
        return Image(data=PNG, format="png")

    @server.tool
    async def crunch(steps: int, ctx: Context) -> str:
        """Reports progress at each step."""
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step}")
        return f"done {steps}"

    return server


@pytest.fixture
async def library_with_samples(library: ToolLibrary) -> ToolLibrary:
    await library.register_module(sample_tools)
    return library


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_server_info_names_toolfoundry_and_its_version(
    library: ToolLibrary, mode: str
) -> None:
    async with Client(build_gateway(library), mode=mode) as client:
        era = client.protocol_version
        info = client.server_info
        capabilities = client.server_capabilities
    assert era == ("2025-11-25" if mode == "legacy" else "2026-07-28")
    assert info is not None and (info.name, info.version) == ("toolfoundry", __version__)
    assert capabilities is not None and capabilities.tools is not None
    assert capabilities.tools.list_changed is True


async def test_a_catalog_change_notifies_handshake_era_clients(library: ToolLibrary) -> None:
    changed = asyncio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            changed.set()

    gateway = build_gateway(library)
    async with Client(gateway, mode="legacy", message_handler=on_message) as client:
        await client.list_tools()
        await library.register(sample_tools.add)
        await asyncio.wait_for(changed.wait(), timeout=5)
        changed.clear()
        await library.set_state("samples.add", enabled=False)
        await asyncio.wait_for(changed.wait(), timeout=5)
        assert "samples.add" not in {t.name for t in await client.list_tools()}


async def test_a_catalog_change_reaches_stateless_era_listeners(library: ToolLibrary) -> None:
    async with Client(build_gateway(library)) as client:
        assert client.protocol_version == "2026-07-28"
        async with listen(client.session, tools_list_changed=True) as subscription:
            assert subscription.honored.tools_list_changed is True
            await library.register(sample_tools.add)
            event = await asyncio.wait_for(anext(subscription), timeout=5)
        assert isinstance(event, ToolsListChanged)
        assert "samples.add" in {t.name for t in await client.list_tools()}


async def test_call_tool_takes_arguments_as_an_object_or_a_json_string(
    library_with_samples: ToolLibrary,
) -> None:
    async with Client(build_gateway(library_with_samples, meta_only=True)) as client:
        as_json = await client.call_tool(
            "call_tool", {"name": "samples.add", "arguments": '{"a": 2, "b": 3}'}
        )
        assert as_json.structured_content == {"tool": "samples.add@1.0.0", "result": 5}
        with pytest.raises(ToolError, match="not JSON") as bad:
            await client.call_tool("call_tool", {"name": "samples.add", "arguments": "{a: 2"})
        assert "\n" in str(bad.value)  # the hint stands on its own line
        with pytest.raises(ToolError, match="must be a JSON object"):
            await client.call_tool("call_tool", {"name": "samples.add", "arguments": "[1, 2]"})


async def test_errors_put_the_hint_on_its_own_line(library_with_samples: ToolLibrary) -> None:
    async with Client(build_gateway(library_with_samples)) as client:
        with pytest.raises(ToolError) as info:
            await client.call_tool("samples.add", {"a": "many"})
    detail, _, hint = str(info.value).partition("\n")
    assert "a" in detail and hint.strip()


async def test_a_disabled_tool_says_it_is_disabled(library_with_samples: ToolLibrary) -> None:
    await library_with_samples.set_state("samples.divide", enabled=False)
    async with Client(build_gateway(library_with_samples)) as client:
        with pytest.raises(ToolError, match="disabled") as info:
            await client.call_tool("samples.divide", {"a": 1, "b": 2})
    assert "Unknown tool" not in str(info.value)
    assert "toolfoundry tools enable samples.divide" in str(info.value)


async def test_safe_names_pass_openai_pattern_and_are_callable_everywhere(
    library_with_samples: ToolLibrary,
) -> None:
    async with Client(build_gateway(library_with_samples, safe_names=True)) as client:
        names = {t.name for t in await client.list_tools()}
        assert "samples__add" in names
        assert all(OPENAI_NAME.match(name) for name in names), names
        result = await client.call_tool("samples__add", {"a": 2, "b": 2})
        assert result.structured_content == {"result": 4}
        found = await client.call_tool("discover_tools", {"query": "add two numbers"})
        assert all(OPENAI_NAME.match(t["name"]) for t in found.structured_content["tools"])
    # The same names are accepted by the Python API (and so by REST, which calls it).
    direct = await library_with_samples.call("samples__add", {"a": 1, "b": 1})
    assert (direct.tool, direct.structured) == ("samples.add", 2)
    pinned = await library_with_samples.call("samples__add@1.0.0", {"a": 1, "b": 2})
    assert pinned.structured == 3


async def test_upstream_images_and_progress_pass_through(library: ToolLibrary) -> None:
    await library.add_mcp_server({"name": "media", "command": "unused"}, server=media_server())
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with Client(build_gateway(library)) as client:
        image = await client.call_tool("media.logo", {})
        block = image.content[0]
        assert isinstance(block, mcp_types.ImageContent)
        assert base64.b64decode(block.data) == PNG and block.mime_type == "image/png"
        done = await client.call_tool("media.crunch", {"steps": 3}, progress_handler=on_progress)
        assert done.content[0].text == "done 3"
        via_meta = await client.call_tool(
            "call_tool",
            {"name": "media.crunch", "arguments": {"steps": 2}},
            progress_handler=on_progress,
        )
        assert via_meta.structured_content["result"] == {"result": "done 2"}
    assert progress == [
        (1, 3, "step 1"),
        (2, 3, "step 2"),
        (3, 3, "step 3"),
        (1, 2, "step 1"),
        (2, 2, "step 2"),
    ]
