"""Upstream resources, resource templates and prompts of the registered MCP servers, on the
gateway under each server's namespace: names become `server.name` (prompts are fetched by that
name); resource URIs stay as the server gave them (the first server wins a clash).

Each server is read through fastmcp's `ProxyProvider` over the connection manager's pooled
client, so a read or a prompt costs no new session. A server that is down or offers none of
these contributes nothing rather than failing the whole listing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, TypeVar

from fastmcp import Client
from fastmcp.prompts import Prompt
from fastmcp.resources import Resource, ResourceTemplate
from fastmcp.server.providers import Provider
from fastmcp.server.providers.proxy import ProxyProvider
from fastmcp.utilities.versions import VersionSpec

from toolfoundry.mcp import McpConnectionManager

log = logging.getLogger(__name__)
C = TypeVar("C", Resource, ResourceTemplate, Prompt)

# Listings are remembered this long for single lookups (a read after a list).
CACHE_SECONDS = 30.0


class UpstreamProvider(Provider):
    def __init__(self, manager: McpConnectionManager) -> None:
        super().__init__()
        self.manager = manager
        self._proxies: dict[str, ProxyProvider] = {}

    def _servers(self) -> dict[str, ProxyProvider]:
        names = self.manager.names()
        for gone in set(self._proxies) - set(names):
            del self._proxies[gone]
        for name in names:
            if name not in self._proxies:
                self._proxies[name] = ProxyProvider(self._client_of(name), CACHE_SECONDS)
        return dict(self._proxies)

    def _client_of(self, name: str) -> Any:
        async def client() -> Client[Any]:
            return await self.manager.get(name).client()

        return client

    async def _each(self, what: str, proxies: dict[str, ProxyProvider]) -> list[tuple[str, Any]]:
        async def one(name: str, proxy: ProxyProvider) -> list[tuple[str, Any]]:
            try:
                return [(name, c) for c in await getattr(proxy, what)()]
            except Exception as exc:  # one server down hides only its own
                log.debug("%s of MCP server %r failed: %s", what, name, exc)
                return []

        found = await asyncio.gather(*(one(n, p) for n, p in proxies.items()))
        return [item for items in found for item in items]

    @staticmethod
    def _named(server: str, component: C) -> C:
        return component.model_copy(update={"name": f"{server}.{component.name}"})

    async def _list_resources(self) -> Sequence[Resource]:
        seen: dict[str, Resource] = {}
        for server, resource in await self._each("list_resources", self._servers()):
            seen.setdefault(str(resource.uri), self._named(server, resource))
        return list(seen.values())

    async def _get_resource(self, uri: str, version: VersionSpec | None = None) -> Resource | None:
        for server, proxy in self._servers().items():
            try:
                found = await proxy.get_resource(uri, version)
            except Exception:  # a down server cannot hold it
                continue
            if found is not None:
                return self._named(server, found)
        return None

    async def _list_resource_templates(self) -> Sequence[ResourceTemplate]:
        seen: dict[str, ResourceTemplate] = {}
        for server, template in await self._each("list_resource_templates", self._servers()):
            seen.setdefault(template.uri_template, self._named(server, template))
        return list(seen.values())

    async def _get_resource_template(
        self, uri: str, version: VersionSpec | None = None
    ) -> ResourceTemplate | None:
        for server, proxy in self._servers().items():
            try:
                found = await proxy.get_resource_template(uri, version)
            except Exception:
                continue
            if found is not None:
                return self._named(server, found)
        return None

    async def _list_prompts(self) -> Sequence[Prompt]:
        return [self._named(s, p) for s, p in await self._each("list_prompts", self._servers())]

    async def _get_prompt(self, name: str, version: VersionSpec | None = None) -> Prompt | None:
        server, dot, backend = name.partition(".")
        proxy = self._servers().get(server)
        if not dot or proxy is None:
            return None
        found = await proxy.get_prompt(backend, version)
        return self._named(server, found) if found is not None else None
