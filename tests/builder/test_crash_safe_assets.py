"""Crash-safe assets: a build process killed with SIGKILL after its files moved into
`mcp_assets/` but before the asset's row was committed leaves a directory no row owns (and maybe
a registered server); the next start sweeps both."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from toolfoundry import Settings, ToolLibrary

BUILD_SCRIPT = textwrap.dedent(
    '''
    import asyncio, sys
    from toolfoundry import Settings, ToolLibrary
    from toolfoundry.builder.models import BuildRequirement, GeneratedFiles
    from toolfoundry.builder.strategies.base import BuildAttempt

    SERVER = """
    from fastmcp import FastMCP
    mcp = FastMCP("pong")

    @mcp.tool
    def pong() -> str:
        \\"\\"\\"Answer pong.\\"\\"\\"
        return "pong"

    if __name__ == "__main__":
        mcp.run(show_banner=False)
    """

    class Tiny:
        name = "tiny"

        async def build(self, requirement, workspace, on_progress):
            env = await workspace.create_environment(BuildRequirement(description="bare"))
            files = GeneratedFiles(files={"server.py": SERVER})
            return BuildAttempt(files=files, environment=env)

    async def main():
        settings = Settings(data_dir=sys.argv[1], database_url=sys.argv[2],
                            load_starters=False, embedder="none")
        async with ToolLibrary.open(settings) as library:
            library.builds.register_strategy(Tiny())
            record = await library.build(
                BuildRequirement(description="Answer pong"), strategy="tiny", budget=600
            )
            print("FINISHED", record.status, record.error_message, flush=True)

    asyncio.run(main())
    '''
)


@pytest.mark.slow
def test_an_asset_dir_left_by_a_kill_9_is_swept_at_start(
    settings: Settings, tmp_path: Path, sandbox: object
) -> None:
    script = tmp_path / "build.py"
    script.write_text(BUILD_SCRIPT)
    assets = Path(settings.data_dir) / "mcp_assets"
    log = tmp_path / "build.log"
    process = subprocess.Popen(
        [sys.executable, str(script), str(settings.data_dir), settings.resolved_database_url],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            if assets.is_dir() and any(assets.iterdir()):
                os.kill(process.pid, signal.SIGKILL)  # files in place, row not yet committed
                break
            time.sleep(0.01)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, log.read_text()[-3000:]
    (orphan,) = list(assets.iterdir())

    async def restart() -> None:
        async with ToolLibrary.open(settings) as library:
            assert [a.id for a in await library.builds.repository.list()] == []
            await library.builds.start()
            assert not orphan.exists()
            assert await library.list_mcp_servers() == []
            build = (await library.builds.list())[0]
            assert build.status in ("queued", "building", "testing", "failed")  # not lost

    asyncio.run(restart())
