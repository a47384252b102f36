"""POST /api/v1/mcp-servers/{name}/restart: a fresh session and process; unknown names 404."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow

ENV_SCRIPT = Path(__file__).parents[1] / "mcp" / "servers" / "env_server.py"


def _pid(client: TestClient) -> int:
    called = client.post("/api/v1/tools/env.pid/call", json={"arguments": {}})
    assert called.status_code == 200 and not called.json()["is_error"], called.text
    return int(called.json()["content"])


def test_restart_starts_a_new_process_and_keeps_the_tools(client: TestClient) -> None:
    config = {"name": "env", "command": sys.executable, "args": [str(ENV_SCRIPT)]}
    assert client.post("/api/v1/mcp-servers", json=config).status_code == 201
    before = _pid(client)
    restarted = client.post("/api/v1/mcp-servers/env/restart")
    assert restarted.status_code == 200, restarted.text
    assert sorted(restarted.json()["tools"]) == ["env.getenv", "env.pid"]
    assert restarted.json()["status"]["state"] == "connected"
    after = _pid(client)
    assert after != before
    assert (
        not Path(f"/proc/{before}").exists()
        or "zombie" in Path(f"/proc/{before}/status").read_text().lower()
    )


def test_restart_of_an_unknown_server_is_a_404(client: TestClient) -> None:
    response = client.post("/api/v1/mcp-servers/nope/restart")
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]
