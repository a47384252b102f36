"""The change feed across real processes: `toolfoundry serve` in one, the CLI or a second library
in another, one database (SQLite file or PostgreSQL). A change must reach the server's
dispatcher, REST and discovery within a second, with no restart."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from toolfoundry import Settings, ToolLibrary

SUPPORT = Path(__file__).parents[1] / "support"
FEED_DEADLINE = 1.0  # seconds from the writer's exit to the change being served

MODULE_V1 = '''
"""Weather helpers."""
from toolfoundry import tool


@tool(toolkit="weather")
def to_celsius(value: float) -> float:
    """Convert degrees Fahrenheit to Celsius."""
    return (value - 32) * 5 / 9
'''

MODULE_V2 = '''
"""Weather helpers."""
from toolfoundry import tool


@tool(toolkit="weather", version="1.1.0")
def to_celsius(value: float, digits: int = 2) -> float:
    """Convert degrees Fahrenheit to Celsius, rounded."""
    return round((value - 32) * 5 / 9 + 1000, digits)
'''


def auth_headers(data_dir: Path) -> dict[str, str]:
    """The Bearer token of the server's data directory, when authentication wrote one."""
    token_file = data_dir / "admin.token"
    if token_file.exists():
        return {"Authorization": f"Bearer {token_file.read_text().strip()}"}
    return {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    data_dir: Path
    env: dict[str, str]
    workdir: Path

    def rest(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method,
            self.url + path,
            headers=auth_headers(self.data_dir),
            timeout=30,
            **kwargs,
        )

    def call(self, ref: str, arguments: dict[str, Any]) -> httpx.Response:
        return self.rest("POST", f"/api/v1/tools/{ref}/call", json={"arguments": arguments})

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the `toolfoundry` command in its own process, as a user would."""
        done = subprocess.run(
            [sys.executable, "-m", "toolfoundry", *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr + done.stdout
        return done


def within(deadline: float, check: Callable[[], bool]) -> float:
    """Seconds until `check()` holds; fails after `deadline` (plus a grace for a slow box)."""
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > deadline + 4:
            raise AssertionError("the running server never saw the change")
        time.sleep(0.02)
    return time.perf_counter() - start


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    workdir = tmp_path / "work"
    workdir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "TOOLFOUNDRY_DATA_DIR": str(tmp_path),
        "TOOLFOUNDRY_DATABASE_URL": database_url,
        "TOOLFOUNDRY_LOAD_STARTERS": "false",
        "TOOLFOUNDRY_EMBEDDER": "none",
        # The server imports function tools by reference: from the work dir or tests/support.
        "PYTHONPATH": os.pathsep.join(
            [str(workdir), str(SUPPORT), os.environ.get("PYTHONPATH", "")]
        ),
    }
    env.pop("TOOLFOUNDRY_REDIS_URL", None)  # the feed alone must carry the change
    process = subprocess.Popen(
        [sys.executable, "-m", "toolfoundry", "serve", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    srv = Server(f"http://127.0.0.1:{port}", tmp_path, env, workdir)
    try:
        deadline = time.monotonic() + 240  # 8 helpers share 2 cores: start-up can be slow
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if srv.rest("GET", "/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not come up within 240 s"
            time.sleep(0.1)
        yield srv
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_cli_add_module_is_served_without_restart(server: Server) -> None:
    """The README flow: serve, then `tools add-module`, then call over REST."""
    (server.workdir / "mytools.py").write_text(textwrap.dedent(MODULE_V1))
    assert server.call("weather.to_celsius", {}).status_code == 404

    server.cli("tools", "add-module", "mytools")

    def callable_() -> bool:
        response = server.call("weather.to_celsius", {"value": 212})
        return response.status_code == 200 and response.json()["structured"] == 100

    latency = within(FEED_DEADLINE, callable_)
    print(f"feed latency (CLI add-module → REST call), {server.url}: {latency:.3f}s")
    assert latency <= FEED_DEADLINE

    def discoverable() -> bool:
        response = server.rest(
            "POST", "/api/v1/discover", json={"query": "convert fahrenheit to celsius"}
        )
        return "weather.to_celsius" in [t["id"] for t in response.json()["tool_filtering"]["tools"]]

    assert within(FEED_DEADLINE, discoverable) <= FEED_DEADLINE

    # A new version with a new parameter: 1.0.0 keeps its schema and its code.
    (server.workdir / "mytools.py").write_text(textwrap.dedent(MODULE_V2))
    server.cli("tools", "add-module", "mytools")

    def new_version_served() -> bool:
        response = server.call("weather.to_celsius", {"value": 212, "digits": 0})
        return response.status_code == 200 and response.json()["version"] == "1.1.0"

    assert within(FEED_DEADLINE, new_version_served) <= FEED_DEADLINE
    assert server.call("weather.to_celsius", {"value": 212}).json()["structured"] == 1100
    old = server.call("weather.to_celsius@1.0.0", {"value": 212, "digits": 0})
    assert old.status_code == 422, old.text
    assert "digits" in old.text
    old = server.call("weather.to_celsius@1.0.0", {"value": 212})
    assert old.json()["version"] == "1.0.0"
    assert old.json()["structured"] == 100  # 1.0.0's body, not 1.1.0's
    described = server.rest("GET", "/api/v1/tools/weather.to_celsius@1.0.0/describe").json()
    assert "digits" not in described["function"]["parameters"]["properties"]


async def test_second_library_changes_reach_the_server(server: Server, settings: Settings) -> None:
    """Another library process (here: this test process) registers and disables a tool."""
    import sample_tools

    async with ToolLibrary.open(settings) as other:
        await other.register(sample_tools.change_case)

        def called() -> bool:
            response = server.call("samples.change_case", {"text": "a"})
            return response.status_code == 200 and response.json()["structured"] == "A"

        assert within(FEED_DEADLINE, called) <= FEED_DEADLINE
        await other.set_state("samples.change_case", enabled=False)

        def disabled() -> bool:
            response = server.call("samples.change_case", {"text": "a"})
            return response.status_code == 404

        assert within(FEED_DEADLINE, disabled) <= FEED_DEADLINE


def test_cli_mcp_add_then_refresh_over_rest(server: Server) -> None:
    command = shutil.which("mcp-server-time", path=str(Path(sys.executable).parent))
    assert command, "mcp-server-time is a test dependency"
    server.cli("mcp", "add", "time", "--", command)

    def managed() -> bool:  # the running server manages it (a status is only known there)
        return server.rest("GET", "/api/v1/mcp-servers/time").json().get("status") is not None

    assert within(FEED_DEADLINE, managed) <= FEED_DEADLINE
    # Refreshing starts the server's process and lists its tools: not bound by the feed's second.
    refreshed = server.rest("POST", "/api/v1/mcp-servers/time/refresh")
    assert refreshed.status_code == 200, refreshed.text
    info = server.rest("GET", "/api/v1/mcp-servers/time").json()
    assert info["status"]["state"] == "connected"
    result = server.call("time.get_current_time", {"timezone": "UTC"})
    assert result.status_code == 200, result.text

    # `mcp list` asks the running server, which has the server connected.
    listed = server.cli("mcp", "list", "--json", "--url", server.url)
    assert '"connected"' in listed.stdout

    server.cli("mcp", "remove", "time")

    def gone() -> bool:
        # The server and its tools may leave the running process in two feed batches (the
        # server's removal, then its tools'): both must be gone within the deadline.
        return (
            server.rest("POST", "/api/v1/mcp-servers/time/refresh").status_code == 404
            and server.call("time.get_current_time", {"timezone": "UTC"}).status_code == 404
        )

    assert within(FEED_DEADLINE, gone) <= FEED_DEADLINE
