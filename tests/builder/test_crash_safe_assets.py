"""Crash-safe assets: a build process killed with SIGKILL after its files were renamed into
`mcp_assets/` but before the asset's row was committed leaves a directory no row owns (and maybe
a registered server); one killed mid-build leaves its work directory. The next start sweeps
them, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
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


def _moved(data_dir: Path) -> bool:
    """The build's files were renamed into mcp_assets/ (its row is not committed yet)."""
    assets = data_dir / "mcp_assets"
    return assets.is_dir() and any(p.name != ".staging" for p in assets.iterdir())


def _mid_build(data_dir: Path) -> bool:
    """The build works in builds/<id>/ (its venv exists), nothing is in mcp_assets/ yet."""
    builds = data_dir / "builds"
    return builds.is_dir() and any((p / "venv").is_dir() for p in builds.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("kill_when", [_moved, _mid_build], ids=["files-moved", "mid-build"])
def test_what_a_kill_9_leaves_is_swept_at_start(
    settings: Settings, tmp_path: Path, sandbox: object, kill_when: Callable[[Path], bool]
) -> None:
    script = tmp_path / "build.py"
    script.write_text(BUILD_SCRIPT)
    data_dir = Path(settings.data_dir)
    assets, builds = data_dir / "mcp_assets", data_dir / "builds"
    log = tmp_path / "build.log"
    process = subprocess.Popen(
        [sys.executable, str(script), str(settings.data_dir), settings.resolved_database_url],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            if kill_when(data_dir):
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.005)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, log.read_text()[-3000:]
    left = [p for p in assets.iterdir()] if assets.is_dir() else []
    (work,) = list(builds.iterdir()) if kill_when is _mid_build else [None]

    async def restart() -> None:
        async with ToolLibrary.open(settings) as library:
            assert [a.id for a in await library.builds.repository.list()] == []
            (build,) = await library.builds.list()
            if kill_when is _moved:
                # The directory is the one the build reserved in its row before the rename.
                assert [p.name for p in left] == [build.asset_id]
            await library.builds.start()
            assert all(not p.exists() for p in left)
            if work is not None:
                # Swept before the workers started (a re-run starts from an empty directory).
                assert not (work / "venv").exists()
            assert await library.list_mcp_servers() == []
            build = (await library.builds.list())[0]
            assert build.status in ("queued", "building", "testing", "failed")  # not lost

    asyncio.run(restart())
