"""`build_tool` and `build_status`: an MCP client grows its own toolset through the gateway.

The reference design's `mcp_auto_builder` meta-tool (§5.1). A build is queued on the same
durable queue REST uses; its phases stream back as MCP progress notifications while the caller
waits, and once it succeeds the new tools are in the catalog — connected clients hear of them
through `notifications/tools/list_changed`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Annotated, Any

from fastmcp import Context, FastMCP
from fastmcp.exceptions import ToolError
from pydantic import Field, ValidationError

from toolfoundry.builder import TERMINAL, BuildRecord, BuildRequirement, Example
from toolfoundry.core.errors import ToolfoundryError
from toolfoundry.gateway.provider import error_text
from toolfoundry.library import ToolLibrary

MAX_WAIT_SECONDS = 900.0


def _requirement(
    description: str, examples: list[str] | None, dependencies: list[str] | None
) -> BuildRequirement:
    try:
        return BuildRequirement(
            description=description,
            dependencies=dependencies or [],
            examples=[Example.parse(text) for text in examples or []],
        )
    except (ValueError, ValidationError) as exc:
        raise ToolError(
            f"cannot build from this request: {exc}\n"
            "Describe the capability in a sentence; examples look like 'INPUT=>EXPECTED'; "
            "dependencies are PyPI names such as 'markdown'."
        ) from None


def _summary(record: BuildRecord, shown: Callable[[str], str]) -> dict[str, Any]:
    asset = record.result.mcp_asset if record.result else None
    return {
        "build_id": record.id,
        "status": record.status,
        "phase": record.current_phase,
        "progress": round(record.progress, 3),
        "reused": record.reused,
        "tools": [shown(tool) for tool in asset.tools] if asset else [],
        "error": record.error_message,
    }


def add_build_tools(server: FastMCP, library: ToolLibrary, shown: Callable[[str], str]) -> None:
    """Register `build_tool` and `build_status` on `server`."""

    @server.tool(name="build_tool")
    async def build_tool(
        description: Annotated[
            str,
            Field(
                min_length=1,
                max_length=2_000,
                description="The missing capability, e.g. 'Convert an integer to Roman numerals'.",
            ),
        ],
        ctx: Context,
        examples: Annotated[
            list[str] | None,
            Field(max_length=20, description="Expected behaviour as 'INPUT=>EXPECTED'."),
        ] = None,
        dependencies: Annotated[
            list[str] | None,
            Field(max_length=20, description="PyPI packages the tool may use."),
        ] = None,
        wait_seconds: Annotated[
            float,
            Field(
                ge=0,
                le=MAX_WAIT_SECONDS,
                description="How long to wait for the build, reporting progress; 0 returns the "
                "build id at once (then poll `build_status`).",
            ),
        ] = 600.0,
    ) -> dict[str, Any]:
        """Build, validate in a sandbox and register a new MCP tool for a missing capability.

        Returns the build's status and, once it succeeded, the names of the new tools."""
        requirement = _requirement(description, examples, dependencies)
        try:
            record = await library.builds.submit(requirement, context="gateway build_tool")
        except ToolfoundryError as exc:
            raise ToolError(error_text(exc)) from exc
        if wait_seconds > 0 and record.status not in TERMINAL:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_seconds):
                    async with contextlib.aclosing(library.builds.watch(record.id)) as events:
                        async for event in events:
                            message = f"{event.phase}: {event.message}".strip(": ")
                            await ctx.report_progress(event.progress * 100, 100, message)
                            if event.final:
                                break
            record = await library.builds.get(record.id)
        return _summary(record, shown)

    @server.tool(name="build_status")
    async def build_status(
        build_id: Annotated[str, Field(min_length=1, max_length=100)],
    ) -> dict[str, Any]:
        """Where a build started by `build_tool` stands; lists its tools once it succeeded."""
        try:
            record = await library.builds.get(build_id)
        except ToolfoundryError as exc:
            raise ToolError(error_text(exc)) from exc
        return _summary(record, shown)
