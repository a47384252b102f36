"""Runs MCP tools on their servers through the connection manager's shared sessions."""

from __future__ import annotations

from typing import Any

import mcp_types

from toolfoundry.core.errors import BackendUnavailableError, OutcomeUnknownError
from toolfoundry.core.models import ToolKind
from toolfoundry.mcp import (
    McpConnectionManager,
    McpNotFoundError,
    McpOutcomeUnknownError,
    McpTimeoutError,
    McpToolError,
    McpUnavailableError,
)
from toolfoundry.registry.schema import compile_schema_validator
from toolfoundry.runtime.backends import ToolOutput
from toolfoundry.runtime.entries import ToolEntry
from toolfoundry.store.tables import ToolRow, ToolVersionRow

SOURCE_PREFIX = "mcp:"


def mcp_source(server: str, remote_name: str) -> str:
    """The catalog's reference to a tool on a server: `mcp:SERVER/TOOL`."""
    return f"{SOURCE_PREFIX}{server}/{remote_name}"


def parse_mcp_source(source: str) -> tuple[str, str]:
    server, _, remote = source.removeprefix(SOURCE_PREFIX).partition("/")
    return server, remote


def output_from_mcp(result: mcp_types.CallToolResult) -> ToolOutput:
    texts = []
    for block in result.content:
        if isinstance(block, mcp_types.TextContent):
            texts.append(block.text)
        else:
            texts.append(f"[{block.type} content]")
    structured = result.structured_content
    content = "\n".join(texts)
    if structured is None and len(texts) == 1:
        structured = texts[0]
    rich = any(not isinstance(block, mcp_types.TextContent) for block in result.content)
    return ToolOutput(
        content=content,
        structured=structured,
        is_error=bool(result.is_error),
        error_type="McpToolError" if result.is_error else None,
        blocks=[
            block.model_dump(mode="json", by_alias=True, exclude_none=True)
            for block in result.content
        ]
        if rich
        else None,
    )


class McpBackend:
    kind = ToolKind.MCP

    def __init__(self, manager: McpConnectionManager) -> None:
        self.manager = manager

    def load(self, tool: ToolRow, version: ToolVersionRow) -> ToolEntry:
        server, remote = parse_mcp_source(version.source or "")
        return ToolEntry(
            tool_id=tool.id,
            version=version.version,
            kind=self.kind,
            # MCP servers validate again, but a local check gives the caller exact paths and
            # spares a round trip for arguments that cannot be right.
            validate=compile_schema_validator(version.input_schema),
            target=(server, remote),
            timeout=tool.timeout,
            retries=tool.retries,
            enabled=version.enabled,
            # One hung server must not take every slot: its tools share a bulkhead.
            bulkhead=f"MCP server {server!r}",
        )

    async def invoke(self, entry: ToolEntry, arguments: dict[str, Any]) -> ToolOutput:
        server, remote = entry.target
        try:
            result = await self.manager.call_tool(
                server, remote, arguments, timeout=entry.timeout, raise_on_error=False
            )
        except McpOutcomeUnknownError as exc:
            raise OutcomeUnknownError(
                str(exc),
                hint="Check whether the call took effect before calling again; mark the tool "
                "retry-safe (server setting retry_safe_tools) if repeating it is harmless.",
            ) from exc
        except McpUnavailableError as exc:
            raise BackendUnavailableError(
                str(exc), hint="The MCP server is down or restarting; retry shortly."
            ) from exc
        except McpNotFoundError as exc:
            raise BackendUnavailableError(
                str(exc), hint="Register the server again with `toolfoundry mcp add`."
            ) from exc
        except McpTimeoutError as exc:
            raise TimeoutError(str(exc)) from exc
        except McpToolError as exc:
            # The server rejected the request itself (unknown tool, invalid params): report it
            # as a failed call with the server's words, like a tool error.
            if exc.result is not None:
                return output_from_mcp(exc.result)
            return ToolOutput(content=str(exc), is_error=True, error_type="McpToolError")
        return output_from_mcp(result)
