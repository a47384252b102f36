"""Following the change feed: what this process does when another one changed the catalog."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

from toolfoundry.core.errors import NotFoundError
from toolfoundry.library.changes import ChangeBus
from toolfoundry.mcp import McpConnectionManager
from toolfoundry.registry.mcp_servers import McpServerRegistry
from toolfoundry.store.changes import SERVER_EVENTS, TOOL_EVENTS, CatalogChange, ChangeEvent

log = logging.getLogger(__name__)

FeedSubscriber = Callable[[list[CatalogChange]], Awaitable[None]]


class FeedFollower:
    """Applies other processes' changes: servers (dis)connected first, so that reloading their
    tools binds to live connections; then tools, learned state and toolkits on the bus; then
    the subscribers (e.g. gateways telling MCP clients the list changed)."""

    def __init__(
        self, bus: ChangeBus, mcp: McpConnectionManager, servers: McpServerRegistry
    ) -> None:
        self._bus = bus
        self._mcp = mcp
        self._servers = servers
        self._subscribers: list[FeedSubscriber] = []

    def subscribe(self, subscriber: FeedSubscriber) -> None:
        self._subscribers.append(subscriber)

    async def apply(self, changes: list[CatalogChange]) -> None:
        servers = {c.subject for c in changes if c.event in SERVER_EVENTS}
        if servers:
            for change in changes:
                if change.event is ChangeEvent.MCP_SERVER_UPDATED and change.subject in self._mcp:
                    await self._mcp.remove(change.subject)  # restore() adds it with the new config
            await self._servers.restore()
        tools = list(dict.fromkeys(c.subject for c in changes if c.event in TOOL_EVENTS))
        for name in servers:  # a refresh may have changed its tools in bulk (e.g. their tags)
            # Removed meanwhile: its TOOL_REMOVED changes drop its tools.
            with contextlib.suppress(NotFoundError):
                tools += [t for t in (await self._servers.get(name)).tools if t not in tools]
        if tools:
            await self._bus.changed("servers" if servers else "upsert", tools, remote=True)
        learned = _subjects(changes, ChangeEvent.TOOL_LEARNED)
        if learned:
            await self._bus.changed("learned", learned, reload=False, remote=True)
        toolkits = _subjects(changes, ChangeEvent.TOOLKIT_CHANGED)
        if toolkits:
            await self._bus.changed("toolkit", toolkits[:1], reload=False, remote=True)
        for subscriber in self._subscribers:
            try:
                await subscriber(changes)
            except Exception:  # one bad subscriber must not stop the feed
                log.exception("change-feed subscriber %r failed", subscriber)


def _subjects(changes: list[CatalogChange], event: ChangeEvent) -> list[str]:
    return list(dict.fromkeys(c.subject for c in changes if c.event is event))
