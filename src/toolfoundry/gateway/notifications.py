"""Tells connected MCP clients that the catalog changed, in both protocol eras.

Handshake era (2025-11-25): `notifications/tools/list_changed` on each session's standing
channel. fastmcp keeps no registry of open connections, so a middleware remembers each
connection the first time one of its messages passes, and forgets it when it closes.

Stateless era (2026-07-28): there is no standing channel; a client opens a
`subscriptions/listen` stream and change events ride it. fastmcp 4.2 does not serve that
method itself, so the gateway registers the MCP SDK's `ListenHandler` over an in-memory bus.

A catalog change — made here or, through the change feed, by any other process — reaches both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import anyio
import mcp.types as mcp_types
from fastmcp import FastMCP
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ListenHandler,
    PromptsListChanged,
    ResourcesListChanged,
    ToolsListChanged,
)
from mcp.shared.exceptions import NoBackChannelError

log = logging.getLogger(__name__)

_GONE = (anyio.ClosedResourceError, anyio.BrokenResourceError, NoBackChannelError)


class ListChangedNotifier(Middleware):
    """Tracks open connections and sends them list-changed notifications on request."""

    def __init__(self) -> None:
        self._sessions: dict[int, Any] = {}
        self._pending: asyncio.Task[None] | None = None
        self._bus = InMemorySubscriptionBus()
        self._upstream = False  # the next broadcast also covers resources and prompts

    def install(self, server: FastMCP) -> None:
        """Serve `subscriptions/listen` on `server` and watch its handshake-era sessions."""
        server.add_middleware(self)
        server._mcp_server.add_request_handler(  # fastmcp exposes no public hook for it
            "subscriptions/listen",
            mcp_types.SubscriptionsListenRequestParams,
            ListenHandler(self._bus),
        )

    @property
    def connections(self) -> int:
        return len(self._sessions)

    async def on_message(self, context: MiddlewareContext, call_next: CallNext) -> Any:
        ctx = context.fastmcp_context
        if ctx is not None and ctx.request_context is not None:
            self._remember(ctx.session)
        return await call_next(context)

    def _remember(self, session: Any) -> None:
        connection = getattr(session, "_connection", None)
        key = id(connection) if connection is not None else id(session)
        if key in self._sessions:
            return
        self._sessions[key] = session
        if connection is not None:

            async def forget() -> None:
                self._sessions.pop(key, None)

            connection.exit_stack.push_async_callback(forget)

    def tools_changed(self, *, upstream: bool = False) -> None:
        """Announce a change soon; a burst of changes (one per tool of a module) is one message.
        `upstream`: MCP servers came or went, so their resources and prompts changed too."""
        self._upstream = self._upstream or upstream
        if self._pending is None or self._pending.done():
            with contextlib.suppress(RuntimeError):  # no running loop: nobody to tell
                self._pending = asyncio.get_running_loop().create_task(self._broadcast())

    async def _broadcast(self) -> None:
        await asyncio.sleep(0.05)  # let the rest of the burst land first
        upstream, self._upstream = self._upstream, False
        events: list[Any] = [ToolsListChanged()]
        notices: list[Any] = [mcp_types.ToolListChangedNotification()]
        if upstream:
            events += [ResourcesListChanged(), PromptsListChanged()]
            notices += [
                mcp_types.ResourceListChangedNotification(),
                mcp_types.PromptListChangedNotification(),
            ]
        for event in events:
            await self._bus.publish(event)
        for key, session in list(self._sessions.items()):
            try:
                for notice in notices:
                    await session.send_notification(notice)
            except _GONE:
                self._sessions.pop(key, None)
            except Exception:  # one broken client must not stop the others hearing of it
                log.debug("list_changed to a connection failed", exc_info=True)
                self._sessions.pop(key, None)
