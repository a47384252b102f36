"""Start a real `toolfoundry serve` subprocess on a free port for crash tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from toolfoundry import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(
    settings: Settings, port: int, log: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`toolfoundry serve` on `settings`' catalog, returned once /ready answers."""
    env = {
        **os.environ,
        "TOOLFOUNDRY_DATA_DIR": str(settings.data_dir),
        "TOOLFOUNDRY_DATABASE_URL": settings.resolved_database_url,
        "TOOLFOUNDRY_LOAD_STARTERS": str(settings.load_starters).lower(),
        "TOOLFOUNDRY_EMBEDDER": "none",
        "TOOLFOUNDRY_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    command = [str(Path(sys.executable).parent / "toolfoundry"), "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, *extra], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise AssertionError(f"toolfoundry serve exited: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"toolfoundry serve did not get ready: {log.read_text()[-2000:]}")


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
