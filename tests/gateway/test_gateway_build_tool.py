"""An MCP client grows its own toolset: `build_tool` through the gateway, then the new tool."""

from __future__ import annotations

import asyncio
from typing import Any

import mcp_types
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from toolfoundry import ToolLibrary
from toolfoundry.builder.stages.sandbox import sandbox_available
from toolfoundry.gateway import build_gateway


async def test_build_tool_refuses_a_malformed_request_with_what_to_fix(
    library: ToolLibrary,
) -> None:
    async with Client(build_gateway(library, meta_only=True)) as client:
        with pytest.raises(ToolError, match="INPUT=>EXPECTED"):
            await client.call_tool(
                "build_tool", {"description": "Roman numerals", "examples": ["no arrow"]}
            )
        with pytest.raises(ToolError, match="build"):
            await client.call_tool("build_status", {"build_id": "bld_missing"})


@pytest.mark.slow
async def test_a_client_builds_a_tool_then_calls_it(library: ToolLibrary) -> None:
    status = sandbox_available()
    if not status.available:
        pytest.skip(f"bubblewrap sandbox unusable here: {status.reason}")
    await library.builds.start()
    progress: list[tuple[float, str | None]] = []
    changed = asyncio.Event()

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    async def on_message(message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            changed.set()

    gateway = build_gateway(library)
    async with Client(gateway, mode="legacy", message_handler=on_message) as client:
        built = await client.call_tool(
            "build_tool",
            {
                "description": "Convert Markdown text to HTML",
                "dependencies": ["markdown"],
                "examples": ["# Hi=><h1>Hi</h1>"],
                "wait_seconds": 600,
            },
            progress_handler=on_progress,
            timeout=700,
        )
        summary = built.structured_content
        assert summary["status"] == "completed", summary
        assert len(summary["tools"]) == 1
        # Phases streamed as progress, in order, ending at 100 %.
        assert len(progress) >= 3 and progress[-1][0] == 100
        assert [value for value, _ in progress] == sorted(value for value, _ in progress)
        await asyncio.wait_for(changed.wait(), timeout=10)
        names = {tool.name for tool in await client.list_tools()}
        assert summary["tools"][0] in names
        html = await client.call_tool(summary["tools"][0], {"text": "# Hi"})
        assert html.content[0].text == "<h1>Hi</h1>"
        status_now = await client.call_tool("build_status", {"build_id": summary["build_id"]})
        assert status_now.structured_content["tools"] == summary["tools"]
