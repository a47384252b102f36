"""Fixtures for the build stages: a usable sandbox (or a clean skip) and one shared build venv."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from toolfoundry.builder.models import BuildRequirement
from toolfoundry.builder.stages.environment import BuildEnvironment, EnvironmentResult
from toolfoundry.builder.stages.sandbox import BubblewrapSandbox, sandbox_available


@pytest.fixture
def sandbox() -> BubblewrapSandbox:
    status = sandbox_available()
    if not status.available:
        pytest.skip(f"bubblewrap sandbox unusable here: {status.reason}")
    return BubblewrapSandbox()


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def markdown_requirement() -> BuildRequirement:
    return BuildRequirement(
        description="Convert Markdown text to HTML",
        dependencies=["markdown"],
        examples=["# Hi=><h1>Hi</h1>"],
    )


@pytest.fixture(scope="session")
def build_env(
    tmp_path_factory: pytest.TempPathFactory, markdown_requirement: BuildRequirement
) -> EnvironmentResult:
    """One venv (fastmcp, markdown, pytest) shared by the slow tests; uv's default cache keeps
    it fast after the first run."""
    venv = tmp_path_factory.mktemp("shared-build") / "venv"
    return asyncio.run(BuildEnvironment().create(venv, markdown_requirement))


class Listener:
    """A TCP server on the host's loopback that records whether anyone connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="session")
def host_python() -> str:
    """The system interpreter: visible inside the sandbox without binding anything."""
    return shutil.which("python3", path="/usr/bin:/bin") or "/usr/bin/python3"


@pytest.fixture(scope="session")
def processes_with() -> Callable[[str], list[int]]:
    return _processes_with


def _processes_with(marker: str) -> list[int]:
    """Pids whose command line contains `marker` (to prove nothing was left running)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline:
            found.append(int(entry.name))
    return found
