"""Upstream resources, resource templates and prompts of registered MCP servers, on the
gateway under the server's namespace (a real in-memory FastMCP upstream, a real client)."""

from __future__ import annotations

import asyncio
from typing import Any

import mcp.types as mcp_types
import pytest
from fastapi import FastAPI
from fastmcp import Client, FastMCP
from mcp.shared.exceptions import MCPError

from toolfoundry import ToolLibrary
from toolfoundry.gateway import build_gateway
from toolfoundry.registry.views import VirtualServer


def docs_server() -> FastMCP[Any]:
    server: FastMCP[Any] = FastMCP("docs")

    @server.tool
    def word_count(text: str) -> int:
        """Count the words of a text."""
        return len(text.split())

    @server.resource("docs://readme", name="readme", mime_type="text/markdown")
    def readme() -> str:
        return "# Docs\nRead me first."

    @server.resource("docs://pages/{page}", name="page")
    def page(page: str) -> str:
        return f"page {page}"

    @server.prompt(name="summarize")
    def summarize(topic: str) -> str:
        """Ask for a summary."""
        return f"Summarize {topic} in one line."

    return server


@pytest.fixture
async def library_with_docs(library: ToolLibrary) -> ToolLibrary:
    await library.add_mcp_server({"name": "docs", "command": "unused"}, server=docs_server())
    return library


async def test_resources_templates_and_prompts_pass_through(
    library_with_docs: ToolLibrary,
) -> None:
    async with Client(build_gateway(library_with_docs, safe_names=False)) as client:
        resources = {str(r.uri): r for r in await client.list_resources()}
        assert resources["docs://readme"].name == "docs.readme"
        assert resources["docs://readme"].mime_type == "text/markdown"
        read = await client.read_resource("docs://readme")
        assert read[0].text == "# Docs\nRead me first."

        templates = {t.uri_template: t for t in await client.list_resource_templates()}
        assert templates["docs://pages/{page}"].name == "docs.page"
        assert (await client.read_resource("docs://pages/intro"))[0].text == "page intro"

        prompts = {p.name: p for p in await client.list_prompts()}
        assert set(prompts) == {"docs.summarize"}
        assert [a.name for a in prompts["docs.summarize"].arguments or []] == ["topic"]
        got = await client.get_prompt("docs.summarize", {"topic": "MCP"})
        assert got.messages[0].content.text == "Summarize MCP in one line."

        with pytest.raises(MCPError):
            await client.get_prompt("summarize", {"topic": "x"})  # only under its namespace
        with pytest.raises(MCPError):
            await client.read_resource("docs://nothing-here")

        # The upstream's tool is still a catalog tool next to them.
        assert "docs.word_count" in {t.name for t in await client.list_tools()}


async def test_removed_server_takes_its_resources_and_prompts_along(
    library_with_docs: ToolLibrary,
) -> None:
    async with Client(build_gateway(library_with_docs)) as client:
        assert await client.list_prompts()
        await library_with_docs.remove_mcp_server("docs")
        assert await client.list_prompts() == []
        assert await client.list_resources() == []


async def test_virtual_servers_do_not_expose_upstream_resources(
    library_with_docs: ToolLibrary,
) -> None:
    view = VirtualServer(name="docs-tools", toolkits=["docs"])
    async with Client(build_gateway(library_with_docs, view=view)) as client:
        assert await client.list_prompts() == []
        assert await client.list_resources() == []


async def test_over_http_reading_needs_the_call_scope(
    served: tuple[str, FastAPI], admin_token: str
) -> None:
    base, app = served
    library: ToolLibrary = app.state.library
    await library.add_mcp_server({"name": "docs", "command": "unused"}, server=docs_server())
    async with Client(f"{base}/mcp", auth=admin_token) as client:
        assert (await client.read_resource("docs://readme"))[0].text.startswith("# Docs")
        got = await client.get_prompt("docs.summarize", {"topic": "HTTP"})
        assert got.messages[0].content.text == "Summarize HTTP in one line."

    from toolfoundry.auth import TokenStore

    _, reader = await TokenStore(library.catalog.sessions).create("reader", ["read"])
    async with Client(f"{base}/mcp", auth=reader) as client:
        assert "docs://readme" in {str(r.uri) for r in await client.list_resources()}
        assert {p.name for p in await client.list_prompts()} == {"docs.summarize"}
        with pytest.raises(MCPError, match="needs the 'call' scope"):
            await client.read_resource("docs://readme")
        with pytest.raises(MCPError, match="needs the 'call' scope"):
            await client.get_prompt("docs.summarize", {"topic": "x"})


async def test_adding_a_server_announces_new_resources_and_prompts(library: ToolLibrary) -> None:
    heard: set[str] = set()
    both = asyncio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, mcp_types.ResourceListChangedNotification):
            heard.add("resources")
        if isinstance(message, mcp_types.PromptListChangedNotification):
            heard.add("prompts")
        if heard == {"resources", "prompts"}:
            both.set()

    gateway = build_gateway(library)
    async with Client(gateway, mode="legacy", message_handler=on_message) as client:
        assert await client.list_prompts() == []
        await library.add_mcp_server({"name": "docs", "command": "unused"}, server=docs_server())
        await asyncio.wait_for(both.wait(), timeout=5)
        assert {p.name for p in await client.list_prompts()} == {"docs.summarize"}
