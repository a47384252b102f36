"""Gateway clients hear `notifications/tools/list_changed` when the catalog changes, also when
another library (process) made the change and it arrived through the change feed."""

from __future__ import annotations

import asyncio

import mcp_types
import sample_tools
from fastmcp import Client

from toolfoundry import Settings, ToolLibrary
from toolfoundry.gateway import build_gateway


async def test_clients_are_told_the_tool_list_changed(settings: Settings) -> None:
    heard = asyncio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            heard.set()

    async with ToolLibrary.open(settings) as served, ToolLibrary.open(settings) as other:
        # The 2025-11-25 era keeps a session open; the stateless 2026-07-28 era has no
        # back-channel for notifications (its clients list again).
        gateway = build_gateway(served)
        async with Client(gateway, message_handler=on_message, mode="legacy") as client:
            await client.list_tools()
            await other.register(sample_tools.add)  # another library: reaches us by the feed
            await asyncio.wait_for(heard.wait(), timeout=5)
            assert "samples.add" in {t.name for t in await client.list_tools()}
