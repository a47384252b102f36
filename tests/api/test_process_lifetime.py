"""Stdio MCP servers die with the service: a real `toolfoundry serve` subprocess runs a server
that is blocked in a call and has started a grandchild in its own session; after a kill -9 (or a
normal stop) of the service, neither survives."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from serve_process import alive, free_port, serve

from toolfoundry import Settings

SERVER = Path(__file__).parent / "servers" / "family_server.py"
QUIET = {"FASTMCP_SHOW_SERVER_BANNER": "false", "FASTMCP_CHECK_FOR_UPDATES": "off"}


def _block(base: str, headers: dict[str, str]) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the service is killed under it
        httpx.post(
            f"{base}/api/v1/tools/family.block/call",
            json={"arguments": {"seconds": 120}},
            headers=headers,
            timeout=150,
        )


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "stop"])
def test_stdio_servers_and_their_grandchildren_die_with_the_service(
    settings: Settings, tmp_path: Path, stop_signal: signal.Signals, auth_headers: dict[str, str]
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = serve(settings, port, tmp_path / "serve.log", env={"TOOLFOUNDRY_SHUTDOWN_GRACE": "2"})
    try:
        body = {"name": "family", "command": sys.executable, "args": [str(SERVER)], "env": QUIET}
        created = httpx.post(
            f"{base}/api/v1/mcp-servers", json=body, headers=auth_headers, timeout=60
        )
        assert created.status_code == 201, created.text

        def call(tool: str) -> int:
            response = httpx.post(
                f"{base}/api/v1/tools/family.{tool}/call", json={}, headers=auth_headers, timeout=30
            )
            assert response.status_code == 200, response.text
            return int(response.json()["content"])

        server, grandchild = call("pid"), call("spawn")
        assert alive(server) and alive(grandchild)
        blocked = threading.Thread(target=_block, args=(base, auth_headers))
        blocked.start()
        time.sleep(1.0)  # the server is now inside the blocking call
        process.send_signal(stop_signal)
        process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while (alive(server) or alive(grandchild)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(server), "the stdio server outlived the service"
        assert not alive(grandchild), "the server's grandchild (own session) outlived the service"
        blocked.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
