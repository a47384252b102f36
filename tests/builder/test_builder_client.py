"""MCPBuilderClient against a build service running in its own HTTP server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from toolfoundry import Settings
from toolfoundry.api.app import create_app
from toolfoundry.auth import read_admin_token
from toolfoundry.builder.service.client import MCPBuilderClient
from toolfoundry.builder.stages.sandbox import sandbox_available
from toolfoundry.core.errors import (
    AuthenticationError,
    BackendUnavailableError,
    InvalidInputError,
    NotFoundError,
)


@pytest.fixture
def service_url(tmp_path: Path) -> Iterator[str]:
    """A live build service; its admin token is in `tmp_path` (see `token`)."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}",
        load_starters=False,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


async def test_errors_map_to_library_errors(service_url: str, tmp_path: Path) -> None:
    async with MCPBuilderClient(service_url) as anonymous:
        with pytest.raises(AuthenticationError, match="token"):
            await anonymous.get_build_status("bld_nope")
    async with MCPBuilderClient(service_url, api_key=read_admin_token(tmp_path)) as client:
        with pytest.raises(InvalidInputError):
            await client.submit_build_request({"requirement": {"description": ""}})
        with pytest.raises(NotFoundError):
            await client.get_build_status("bld_nope")
    async with MCPBuilderClient("http://127.0.0.1:9") as unreachable:
        with pytest.raises(BackendUnavailableError, match="unreachable"):
            await unreachable.get_build_status("x")


@pytest.mark.slow
@pytest.mark.skipif(not sandbox_available().available, reason="no sandbox")
async def test_remote_build_completes(service_url: str, tmp_path: Path) -> None:
    async with MCPBuilderClient(service_url, api_key=read_admin_token(tmp_path)) as client:
        submitted = await client.submit_build_request(
            {
                "requirement": {
                    "description": "Convert Markdown text to HTML",
                    "dependencies": ["markdown"],
                    "examples": ["# Hi=><h1>Hi</h1>"],
                }
            }
        )
        assert submitted["status"] in ("queued", "completed")
        status = await client.wait(submitted["build_id"], budget=240)
        assert status["status"] == "completed", status["logs"][-5:]
        result = await client.get_build_result(submitted["build_id"])
    assert result["success"] and result["mcp_asset"]["tools"]
