"""Checks before a stored asset answers a new request: it is registered, and (for a similar
rather than identical request) it reproduces the request's examples through a live call."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolfoundry.builder.models import BuildRequirement
from toolfoundry.builder.registration import IDLE_TIMEOUT, register
from toolfoundry.builder.repository import McpAsset
from toolfoundry.builder.validator import example_arguments, outputs_match
from toolfoundry.core.errors import NotFoundError, ToolfoundryError
from toolfoundry.mcp import McpServerConfig

if TYPE_CHECKING:
    from toolfoundry.library import ToolLibrary


async def ensure_registered(library: ToolLibrary, asset: McpAsset) -> list[str]:
    """The asset's catalog tool ids, registering its server again if it was removed."""
    try:
        return (await library.get_mcp_server(asset.server_name)).tools
    except NotFoundError:
        pass
    if not await asyncio.to_thread(Path(asset.path).is_dir):
        raise NotFoundError(f"the files of asset {asset.id} are gone ({asset.path})")
    config = McpServerConfig(
        name=asset.server_name,
        transport="stdio",
        command=asset.launch["command"],
        args=asset.launch["args"],
        toolkit=asset.toolkit,
        init_timeout=60.0,
        idle_timeout=IDLE_TIMEOUT,
    )
    registration = await register(
        library, config, sandbox=asset.launch["sandbox"], network=asset.network
    )
    return registration.tools


async def failing_examples(
    library: ToolLibrary, tool_ids: list[str], requirement: BuildRequirement
) -> list[str]:
    """The request's examples that none of the asset's tools reproduces."""
    tools = [await library.get_tool(tool_id) for tool_id in tool_ids]
    failing = []
    for example in requirement.examples:
        if not any([await _reproduces(library, tool, example) for tool in tools]):
            failing.append(f"{example.input!r} => {example.expected!r}")
    return failing


async def _reproduces(library: ToolLibrary, tool: Any, example: Any) -> bool:
    if example.tool not in (None, tool.name):
        return False
    try:
        arguments = example_arguments(example.input, tool.input_schema)
        result = await library.call(tool.id, arguments)
    except (ValueError, ToolfoundryError):
        return False
    if result.is_error:
        return False
    structured = result.structured
    if isinstance(structured, dict) and set(structured) == {"result"}:
        structured = structured["result"]
    return outputs_match(example.expected, structured) or outputs_match(
        example.expected, result.content
    )
