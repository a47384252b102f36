"""Fixtures for the MCP connection tests: in-memory servers, subprocess servers, process checks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import mcp_types
import pytest
from fastmcp import Context, FastMCP
from fastmcp.server.middleware import Middleware, MiddlewareContext

SERVERS = Path(__file__).parent / "servers"
DATA = Path(__file__).parent / "data"
ECHO_SCRIPT = SERVERS / "echo_server.py"
QUIET_ENV = {"FASTMCP_SHOW_SERVER_BANNER": "false", "FASTMCP_CHECK_FOR_UPDATES": "off"}


class CountInitialize(Middleware):
    """Counts MCP initialize handshakes, i.e. sessions opened against the server."""

    def __init__(self) -> None:
        self.count = 0

    async def on_initialize(self, context: MiddlewareContext[Any], call_next: Any) -> Any:
        self.count += 1
        return await call_next(context)


class MemoryServer:
    """A FastMCP server for the in-memory transport, counting the sessions opened on it."""

    def __init__(self) -> None:
        self.server = make_server()
        self._counter = CountInitialize()
        self.server.add_middleware(self._counter)

    @property
    def initializations(self) -> int:
        return self._counter.count


def make_server() -> FastMCP[Any]:
    server: FastMCP[Any] = FastMCP("memory")

    @server.tool
    def echo(text: str) -> str:
        return text

    @server.tool
    def session(ctx: Context) -> str:
        """The id of the MCP session the call arrived on."""
        return ctx.session_id

    @server.tool
    def fail(message: str) -> str:
        raise ValueError(message)

    @server.tool
    async def hang() -> str:
        await asyncio.sleep(3600)
        return "late"

    @server.tool
    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "done"

    @server.tool
    async def grow(name: str, ctx: Context) -> str:
        def added() -> str:
            return name

        server.add_tool(server.tool(added, name=name))
        await ctx.send_notification(mcp_types.ToolListChangedNotification())
        return name

    return server


@pytest.fixture
def memory_server() -> MemoryServer:
    return MemoryServer()


class Processes:
    """Checks on this test process's children, read from /proc."""

    @staticmethod
    def children() -> set[int]:
        return child_pids()

    @staticmethod
    def gone(pid: int) -> bool:
        return process_gone(pid)


@pytest.fixture
def processes() -> Processes:
    return Processes()


def child_pids() -> set[int]:
    """Live (non-zombie) child processes of this test process, read from /proc."""
    children: set[int] = set()
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces; fields after it are "state ppid ...".
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == me and state != "Z":
            children.add(int(entry.name))
    return children


def process_gone(pid: int) -> bool:
    """True when `pid` has exited and was reaped: a zombie still has its /proc entry."""
    return not Path(f"/proc/{pid}").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SubprocessServer:
    """The echo server over http or sse in a child process, restartable on the same port."""

    def __init__(self, transport: str, env: dict[str, str] | None = None) -> None:
        self.transport = transport
        self.port = free_port()
        self.env = {**os.environ, **QUIET_ENV, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        path = "mcp" if self.transport == "http" else "sse"
        return f"http://127.0.0.1:{self.port}/{path}"

    async def start(self) -> None:
        # Popen, not asyncio's subprocess API: the server must outlive the test's event loop
        # scopes and be killable from synchronous teardown.
        self.process = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, str(ECHO_SCRIPT), self.transport, str(self.port)], env=self.env
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                assert self.process.poll() is None, "the test server exited at start"
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise TimeoutError(f"{self.transport} test server did not listen on {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


@pytest.fixture
async def subprocess_server() -> AsyncIterator[Any]:
    """Factory: `await subprocess_server("http")` starts a server, killed at teardown."""
    servers: list[SubprocessServer] = []

    async def start(transport: str, env: dict[str, str] | None = None) -> SubprocessServer:
        server = SubprocessServer(transport, env)
        servers.append(server)
        await server.start()
        return server

    yield start
    for server in servers:
        server.kill()


@pytest.fixture
def no_leaked_children() -> Iterator[None]:
    """Fails a test that leaves a child process of its own running."""
    before = child_pids()
    yield
    deadline = time.monotonic() + 5
    while (leaked := child_pids() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not leaked, f"child processes left running: {leaked}"


@pytest.fixture
def dead_url() -> str:
    """An MCP URL on a local port nobody listens on."""
    return f"http://127.0.0.1:{free_port()}/mcp"
