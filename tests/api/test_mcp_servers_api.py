"""/api/v1/mcp-servers over a real catalog with a real stdio MCP server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from toolfoundry import Settings
from toolfoundry.api.app import create_app

ECHO_SERVER = Path(__file__).parents[1] / "mcp" / "servers" / "echo_server.py"
QUIET = {"FASTMCP_SHOW_SERVER_BANNER": "false", "FASTMCP_CHECK_FOR_UPDATES": "off"}


@pytest.fixture
def client(settings: Settings, auth_headers: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=auth_headers) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"name": "x", "transport": "pigeon", "command": "a"}, "unknown transport"),
        ({"name": "x", "transport": "stdio"}, "command"),
        ({"name": "x", "transport": "http"}, "url"),
        ({"name": "x", "url": "ftp://example.com"}, "http"),
        ({"name": "Bad Name!", "command": "a"}, "name"),
        ({"name": "x", "command": "/nonexistent/mcp-server"}, "not found"),
        ({"name": "x", "url": "http://127.0.0.1:9/mcp", "init_timeout": 2}, "x"),
    ],
)
def test_bad_registrations_are_422_and_leave_nothing(
    client: TestClient, body: dict, expected: str
) -> None:
    response = client.post("/api/v1/mcp-servers", json=body)
    assert response.status_code == 422, response.text
    assert expected in response.text
    assert client.get("/api/v1/mcp-servers").json() == []
    assert client.get("/api/v1/tools", params={"kind": "mcp"}).json() == []


def test_unknown_server_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/mcp-servers/nope").status_code == 404
    assert client.delete("/api/v1/mcp-servers/nope").status_code == 404
    assert client.post("/api/v1/mcp-servers/nope/refresh").status_code == 404


@pytest.mark.slow
def test_register_call_refresh_remove(client: TestClient) -> None:
    body = {
        "name": "echo",
        "command": sys.executable,
        "args": [str(ECHO_SERVER), "stdio"],
        "env": QUIET,
    }
    created = client.post("/api/v1/mcp-servers", json=body)
    assert created.status_code == 201, created.text
    assert "echo.echo" in created.json()["tools"]
    assert created.json()["status"]["state"] == "connected"
    assert client.post("/api/v1/mcp-servers", json=body).status_code == 409

    result = client.post("/api/v1/tools/echo.echo/call", json={"arguments": {"text": "hi"}})
    assert result.status_code == 200 and result.json()["content"] == "hi"
    bad = client.post("/api/v1/tools/echo.echo/call", json={"arguments": {"text": 5}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "text"

    listed = client.get("/api/v1/mcp-servers").json()
    assert [s["name"] for s in listed] == ["echo"]
    assert listed[0]["status"]["latency_ms"] is not None
    assert client.post("/api/v1/mcp-servers/echo/refresh").status_code == 200

    removed = client.delete("/api/v1/mcp-servers/echo").json()["removed_tools"]
    assert "echo.echo" in removed
    assert client.get("/api/v1/tools/echo.echo").status_code == 404
