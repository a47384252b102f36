"""Calls to a streamable HTTP server reuse TCP connections (a real server in a child process;
the kernel's socket table tells how many connections were opened)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from toolfoundry.mcp import McpConnectionManager, McpServerConfig

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs /proc/net/tcp")


def client_ports(server_port: int) -> set[int]:
    """Local ports of every TCP connection to `server_port` the kernel still remembers (open,
    closing or in TIME_WAIT, which lasts a minute)."""
    ports: set[int] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote = line.split()[1:3]
        local_port, remote_port = (int(end.rsplit(":", 1)[1], 16) for end in (local, remote))
        if remote_port == server_port:
            ports.add(local_port)
    return ports


async def test_calls_share_connections(subprocess_server: Any) -> None:
    server = await subprocess_server("http")
    before = client_ports(server.port)
    config = McpServerConfig(name="remote", transport="http", url=server.url, health_interval=None)
    async with McpConnectionManager() as manager:
        await manager.add(config)
        for index in range(30):
            result = await manager.call_tool("remote", "echo", {"text": str(index)})
            assert result.content[0].text == str(index)  # type: ignore[union-attr]
        opened = client_ports(server.port) - before
    # One for requests, one for the session's standing GET stream, and a spare; not one per
    # call (the MCP SDK closes each answer's stream unread, which kills its connection).
    assert len(opened) <= 4, f"{len(opened)} connections for 30 calls"
