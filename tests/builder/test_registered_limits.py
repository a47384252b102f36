"""A registered built server runs with the server limits: its launch command carries them, the
wall-time limit really ends the process, and the next call starts a fresh one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from toolfoundry import Settings, ToolLibrary
from toolfoundry.builder.models import GeneratedFiles
from toolfoundry.builder.service.builds import BuildService
from toolfoundry.builder.service.registration import SERVER_LIMITS, launch_config
from toolfoundry.builder.stages.environment import EnvironmentResult
from toolfoundry.builder.stages.sandbox import BubblewrapSandbox, ResourceLimits
from toolfoundry.core.errors import OutcomeUnknownError

TOKEN_SERVER = '''\
import uuid

from fastmcp import FastMCP

mcp = FastMCP("token")
TOKEN = uuid.uuid4().hex


@mcp.tool
def token() -> str:
    """A value chosen when this process started."""
    return TOKEN


if __name__ == "__main__":
    mcp.run()
'''

pytestmark = pytest.mark.slow


def test_default_server_limits_are_far_below_an_hour() -> None:
    assert SERVER_LIMITS.cpu_seconds == 300 and SERVER_LIMITS.wall_seconds == 1800
    settings = Settings(sandbox_server_cpu_seconds=60, sandbox_server_wall_seconds=600)
    assert settings.sandbox_disk_mb == 256 and settings.sandbox_uids == "61000-61999"
    for bad in ("62000-61000", "0-10", "61000"):
        with pytest.raises(ValidationError, match="sandbox_uids"):
            Settings(sandbox_uids=bad)


async def test_service_limits_come_from_settings(library: ToolLibrary) -> None:
    library.settings.sandbox_server_cpu_seconds = 45
    library.settings.sandbox_server_wall_seconds = 90
    library.settings.sandbox_disk_mb = 32
    service = BuildService(library, embedder=None)
    assert service.server_limits.cpu_seconds == 45 and service.server_limits.wall_seconds == 90
    assert service.server_limits.disk_bytes == service.validation_limits.disk_bytes == 32 * 1024**2
    assert service.environment.cache_dir is not None


async def test_a_registered_server_is_ended_by_its_wall_limit_and_restarted(
    library: ToolLibrary,
    build_env: EnvironmentResult,
    tmp_path: Path,
    sandbox: BubblewrapSandbox,
    processes_with: Callable[[str], list[int]],
) -> None:
    asset_dir = tmp_path / "mcp_assets" / "mcp_token"
    GeneratedFiles(files={"server.py": TOKEN_SERVER}).write_to(asset_dir / "server")
    # Long enough to start on a loaded machine; the test waits for it to run out.
    limits = ResourceLimits(cpu_seconds=20, wall_seconds=20)
    config = launch_config(
        "token-server", build_env, sandbox, asset_dir, network=False, limits=limits
    )
    launch = [config.command or "", *config.args]
    assert "--cpu=20" in launch and launch[-5:-2] == ["timeout", "--kill-after=5", "20"]
    await library.add_mcp_server(config)
    first = (await library.call("token-server.token", {})).raise_for_error().structured
    server_py = str(asset_dir / "server" / "server.py")
    assert processes_with(server_py)
    for _ in range(60):  # `timeout` ends the process once it has lived 20 s
        await asyncio.sleep(1)
        if not processes_with(server_py):
            break
    assert not processes_with(server_py)
    # The stdio transport cannot tell a server that died while idle from one that died
    # mid-call, so the first call on the dead session may be refused as "outcome unknown"
    # (at most once); it drops the session and the next call gets a fresh process.
    try:
        second = (await library.call("token-server.token", {})).raise_for_error().structured
    except OutcomeUnknownError:
        second = (await library.call("token-server.token", {})).raise_for_error().structured
    assert first and second and first != second  # a fresh process answered
