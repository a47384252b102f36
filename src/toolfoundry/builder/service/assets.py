"""Asset directories on disk: a finished build moves in whole, marked with the build that made
it, and directories no asset row owns (a build killed between the move and the commit) are swept
at start."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from toolfoundry.builder.service.queue import BuildQueue
from toolfoundry.builder.service.repository import McpRepository
from toolfoundry.core.errors import ToolfoundryError

if TYPE_CHECKING:
    from toolfoundry.builder.ports import ServerRegistrar

log = logging.getLogger(__name__)

OWNER_FILE = ".build"
"""In an asset directory: the build (id and attempt) that made it. Until the asset's row is
committed, the directory belongs to that build, and is swept at start once that attempt is over."""


def move_build(source: Path, target: Path, owner: str) -> None:
    shutil.rmtree(source / "probe", ignore_errors=True)  # scratch of the package wrapper
    (source / OWNER_FILE).write_text(owner)
    target.parent.mkdir(parents=True, exist_ok=True)
    # One rename on the same file system: the directory appears whole or not at all.
    shutil.move(source, target)


async def sweep_orphan_assets(
    repository: McpRepository, queue: BuildQueue, servers: ServerRegistrar
) -> list[Path]:
    """Remove asset directories no asset row owns — left by a build killed between moving
    its files into place and committing its row — with any MCP server registered from
    them. Directories of builds still running (here or in another worker) are kept."""
    root = repository.assets_dir
    if not root.is_dir():
        return []
    known = {asset.id for asset in await repository.list()}
    swept = []
    for path in sorted(root.iterdir()):
        if not path.is_dir() or path.name in known:
            continue
        owner = path / OWNER_FILE
        build_id, _, attempt = (owner.read_text() if owner.is_file() else "").partition(" ")
        if build_id:
            with contextlib.suppress(ToolfoundryError):
                build = await queue.get(build_id)
                # The same attempt still running: its row is about to be committed.
                if build.status in ("building", "testing") and str(build.attempts) == attempt:
                    continue
        for server in await servers.list_mcp_servers():
            if any(str(path) in arg for arg in server.config.args):
                with contextlib.suppress(ToolfoundryError):
                    await servers.remove_mcp_server(server.name)
        await asyncio.to_thread(shutil.rmtree, path, True)
        log.warning("removed orphan asset directory %s (build %s)", path, build_id)
        swept.append(path)
    return swept
