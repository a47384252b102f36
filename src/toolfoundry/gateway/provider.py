"""A fastmcp Provider whose tools are the catalog's enabled tools, called through the dispatcher."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from fastmcp.exceptions import ToolError
from fastmcp.server.context import Context, _get_client_log_level
from fastmcp.server.dependencies import get_context
from fastmcp.server.providers import Provider
from fastmcp.tools import Tool as McpTool
from fastmcp.tools.base import ToolResult as McpToolResult
from fastmcp.utilities.versions import VersionSpec
from mcp.types import ContentBlock, TextContent
from mcp_types import LoggingMessageNotificationParams
from pydantic import TypeAdapter

from toolfoundry.core.errors import ToolfoundryError
from toolfoundry.core.models import Tool, ToolResult
from toolfoundry.gateway.ports import GatewayCatalog
from toolfoundry.gateway.views import ViewScope
from toolfoundry.mcp.relay import log_relay, progress_relay
from toolfoundry.registry.presentation import mcp_output_schema, model_description
from toolfoundry.registry.schema import WRAPPED_KEY

_BLOCKS = TypeAdapter(list[ContentBlock])
T = TypeVar("T")


def to_mcp_result(result: ToolResult, output_schema: dict[str, Any] | None) -> McpToolResult:
    """A dispatcher result as MCP content; structured content only where a schema promises it.
    Upstream images, audio and resources pass through as the server sent them."""
    structured: dict[str, Any] | None = None
    if output_schema is not None and not result.is_error:
        if output_schema.get(WRAPPED_KEY):
            structured = {"result": result.structured}
        elif isinstance(result.structured, dict):
            structured = result.structured
    content: list[Any] = (
        _BLOCKS.validate_python(result.blocks)
        if result.blocks
        else [TextContent(type="text", text=result.content)]
    )
    return McpToolResult(content=content, structured_content=structured, is_error=result.is_error)


def error_text(exc: ToolfoundryError) -> str:
    """What went wrong, then on its own line what to do about it."""
    return f"{exc.detail}\n{exc.hint}" if exc.hint else exc.detail


async def relaying(call: Callable[[], Awaitable[T]]) -> T:
    """Run `call` (a dispatcher call) forwarding upstream MCP progress and log messages to this
    gateway request's client. They are sent from the request's own task: the upstream handlers
    run on the upstream session's reader, which must neither block on nor write to the
    downstream stream. If the request is cancelled (the client sent `notifications/cancelled`
    or went away) the call is cancelled, and with it the upstream request, whose session
    tells the upstream server so."""
    try:
        ctx = get_context()
    except RuntimeError:
        return await call()
    sends: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()

    async def relay_progress(progress: float, total: float | None, message: str | None) -> None:
        sends.put_nowait(lambda: ctx.report_progress(progress, total, message))

    async def log(params: LoggingMessageNotificationParams) -> None:
        sends.put_nowait(lambda: _send_log(ctx, params))

    tokens = progress_relay.set(relay_progress), log_relay.set(log)
    try:
        task = asyncio.ensure_future(call())  # the task copies the context: it sees the relays
    finally:
        progress_relay.reset(tokens[0])
        log_relay.reset(tokens[1])
    try:
        while not task.done():
            update = asyncio.ensure_future(sends.get())
            await asyncio.wait({task, update}, return_when=asyncio.FIRST_COMPLETED)
            if update.done():
                await update.result()()
            else:
                update.cancel()
        while not sends.empty():
            await sends.get_nowait()()
    finally:
        if not task.done():
            task.cancel()  # the client cancelled or went away: cancel the upstream call too
    return task.result()


_LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]


async def _send_log(ctx: Context, params: LoggingMessageNotificationParams) -> None:
    """An upstream log message to the client as the upstream sent it, unless it is below the
    level the client asked for with `logging/setLevel` (else the server's default)."""
    # fastmcp keeps the client's level on the connection and exposes no public getter for it.
    minimum = _get_client_log_level(ctx.session) or ctx.fastmcp.client_log_level
    if minimum is not None and _LEVELS.index(params.level) < _LEVELS.index(minimum):
        return
    await ctx.session.send_log_message(
        level=params.level,
        data=params.data,
        logger=params.logger,
        related_request_id=ctx.origin_request_id,
    )


class CatalogTool(McpTool):
    """One catalog tool seen over MCP; running it is a dispatcher call."""

    tool_id: str
    library: Any  # GatewayCatalog; Any keeps pydantic from trying to validate it

    async def run(self, arguments: dict[str, Any]) -> McpToolResult:
        try:
            result = await relaying(lambda: self.library.call(self.tool_id, arguments))
        except ToolfoundryError as exc:
            # A ToolError reaches the client as an isError result it can read and act on.
            raise ToolError(error_text(exc)) from exc
        return to_mcp_result(result, self.output_schema)

    @classmethod
    def from_catalog(
        cls, tool: Tool, library: GatewayCatalog, *, safe_names: bool = False
    ) -> CatalogTool:
        # Safe names as the dispatcher maps them: the id itself when two ids render alike.
        return cls(
            name=library.names.exposed_name(tool.id) if safe_names else tool.id,
            description=model_description(tool),
            parameters=tool.input_schema,
            output_schema=mcp_output_schema(tool),
            tags=set(tool.tags) | {tool.toolkit},
            tool_id=tool.id,
            library=library,
        )


class CatalogProvider(Provider):
    """Lists the catalog's enabled tools; the list is rebuilt only when the catalog changed.

    With `safe_names` every tool is exposed under the name model APIs accept
    (`stats__descriptive_statistics`, see `registry.presentation`); the dispatcher accepts both.
    With `scope` only a virtual server's tools are listed and callable.
    """

    def __init__(
        self, library: GatewayCatalog, *, safe_names: bool = False, scope: ViewScope | None = None
    ) -> None:
        super().__init__()
        self.library = library
        self.safe_names = safe_names
        self.scope = scope
        self._version = -1
        self._tools: dict[str, CatalogTool] = {}

    async def _current(self) -> dict[str, CatalogTool]:
        if self._version != self.library.catalog_version:
            version = self.library.catalog_version
            tools = await self.library.list_tools(enabled=True)
            if self.scope is not None:
                tools = [t for t in tools if self.scope.view.includes(t)]
            exposed = (
                CatalogTool.from_catalog(t, self.library, safe_names=self.safe_names) for t in tools
            )
            self._tools = {tool.name: tool for tool in exposed}
            self._version = version
        return self._tools

    async def _list_tools(self) -> Sequence[McpTool]:
        return list((await self._current()).values())

    async def _get_tool(self, name: str, version: VersionSpec | None = None) -> McpTool | None:
        tool = (await self._current()).get(name)
        names = self.library.names
        if tool is None and names.knows(name):
            if self.scope is not None and not await self.scope.allows(name):
                return None  # outside the view: as unknown as a tool that does not exist
            # Known but not listed (disabled): calling it says why, as REST does, instead of
            # the client hearing "Unknown tool".
            hidden = await self.library.get_tool(names.canonical_id(name))
            return CatalogTool.from_catalog(hidden, self.library, safe_names=self.safe_names)
        return tool
