"""Crash-safe placement of a built server's files.

A build works in `builds/<build id>/`. Once validated, its asset id is first reserved in the
build's row (committed), then the work directory is renamed to `mcp_assets/<asset id>/` — one
`rename(2)` on the same file system, so the directory appears whole or not at all — and only
then is the server registered and the asset's row committed. A kill -9 anywhere in between
leaves a directory whose build is no longer running; `stale_paths` names them at the next
start. No marker files: ownership is in the database (the build's `asset_id`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from toolfoundry.builder.service.queue import BuildQueue
from toolfoundry.builder.service.repository import McpRepository
from toolfoundry.core.errors import ToolfoundryError

if TYPE_CHECKING:
    from toolfoundry.builder.ports import ServerRegistrar

log = logging.getLogger(__name__)

STAGING = ".staging"
"""Under `mcp_assets/`: where files are copied first when the build directory is on another
file system, so that the final step is still one rename."""


def place(source: Path, target: Path) -> None:
    """Move the build directory `source` to `target` atomically (no partial `target` ever)."""
    shutil.rmtree(source / "probe", ignore_errors=True)  # scratch of the package wrapper
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(source, target)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    # Another file system: copy next to the target (same file system as it), then rename.
    staged = target.parent / STAGING / target.name
    staged.parent.mkdir(exist_ok=True)
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(source, staged, symlinks=True)
    os.rename(staged, target)
    shutil.rmtree(source, ignore_errors=True)


def stale_paths(
    assets_dir: Path,
    builds_dir: Path,
    *,
    asset_ids: Iterable[str],
    running: dict[str, str | None],
) -> list[Path]:
    """Directories no committed asset and no running build owns.

    `asset_ids`: the assets with a row. `running`: build id → reserved asset id (or None) of
    every build still building or testing in a live worker (run this after recovering the
    builds of dead workers and before this process's workers start).
    """
    owned = set(asset_ids) | {asset for asset in running.values() if asset}
    stale: list[Path] = []
    if assets_dir.is_dir():
        for path in sorted(assets_dir.iterdir()):
            if path.name == STAGING and path.is_dir():
                stale += [p for p in sorted(path.iterdir()) if p.name not in owned]
            elif path.is_dir() and path.name not in owned:
                stale.append(path)
    if builds_dir.is_dir():
        stale += [p for p in sorted(builds_dir.iterdir()) if p.is_dir() and p.name not in running]
    return stale


async def sweep_orphan_assets(
    repository: McpRepository, queue: BuildQueue, servers: ServerRegistrar, builds_dir: Path
) -> list[Path]:
    """Remove what a killed build left: asset directories without a row (with any MCP
    server registered from them), staged copies, and work directories of builds no live
    worker runs. Runs after the builds of dead workers were recovered and before this
    process's workers start, so only other live workers' builds are kept."""
    running = {
        build.id: build.asset_id
        for status in ("building", "testing")
        for build in await queue.list(status, limit=10_000)  # type: ignore[arg-type]
    }
    stale = stale_paths(
        repository.assets_dir,
        builds_dir,
        asset_ids=[asset.id for asset in await repository.list()],
        running=running,
    )
    for path in stale:
        if path.parent == repository.assets_dir:
            for server in await servers.list_mcp_servers():
                if any(str(path) in arg for arg in server.config.args):
                    with contextlib.suppress(ToolfoundryError):
                        await servers.remove_mcp_server(server.name)
        await asyncio.to_thread(shutil.rmtree, path, True)
        log.warning("removed %s: left by a build that is no longer running", path)
    return stale
