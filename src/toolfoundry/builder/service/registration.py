"""A validated build becomes an MCP server in the catalog, launched through the same sandbox.

The stdio launch command is the sandbox's command prefix (bubblewrap, setpriv, prlimit) followed by
the asset venv's python and `server.py`, so the registered server runs confined exactly as it was
validated. Its tools are tagged `built`, with the sandbox and the network grant, so the catalog
shows where they came from and what they may reach.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel
from sqlalchemy import update

from toolfoundry.builder.stages.environment import EnvironmentResult
from toolfoundry.builder.stages.sandbox import ResourceLimits, Sandbox
from toolfoundry.mcp import McpServerConfig
from toolfoundry.store.tables import ToolRow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from toolfoundry.builder.ports import ServerRegistrar

BUILT_TAG = "built"
# A registered server is long-lived but restarted on demand: RLIMIT_CPU is cumulative, so a server
# that has burnt 300 CPU-seconds is killed and the connection manager starts a fresh one on the
# next call; `timeout` bounds its lifetime the same way. Both come from settings in the service.
SERVER_LIMITS = ResourceLimits(cpu_seconds=300, wall_seconds=1800)
# Built servers idle most of the time; the connection manager restarts one on its next call.
IDLE_TIMEOUT = 600.0


class Registration(BaseModel):
    server_name: str
    toolkit: str
    tools: list[str]
    command: str
    args: list[str]
    sandbox: str
    network: bool

    @property
    def launch(self) -> dict[str, object]:
        return {
            "command": self.command,
            "args": self.args,
            "sandbox": self.sandbox,
            "network": self.network,
        }


def server_name_for(description: str, asset_id: str) -> str:
    """A catalog-safe server (and toolkit) name: the description's first words plus the id's
    tail, so two builds of similar things never collide."""
    words = re.findall(r"[a-z0-9]+", description.lower())
    slug = "-".join(words)[:40].strip("-") or "built"
    return f"{slug}-{asset_id[-6:]}"


def relocate(env: EnvironmentResult, old_root: Path, new_root: Path) -> EnvironmentResult:
    """The same environment after its build directory moved (the venv holds no absolute paths
    we use: the server runs as `venv/bin/python server.py`)."""
    return env.model_copy(
        update={
            "venv": new_root / env.venv.relative_to(old_root),
            "python": new_root / env.python.relative_to(old_root),
            "site_packages": new_root / env.site_packages.relative_to(old_root),
        }
    )


def launch_config(
    name: str,
    env: EnvironmentResult,
    sandbox: Sandbox,
    asset_dir: Path,
    *,
    network: bool,
    limits: ResourceLimits = SERVER_LIMITS,
) -> McpServerConfig:
    server_dir, work_dir = asset_dir / "server", asset_dir / "work"
    spec = env.sandbox_spec(server_dir, work_dir, network=network, limits=limits)
    sandbox.prepare(spec)
    argv = [*sandbox.command_prefix(spec), *env.server_argv(server_dir)]
    return McpServerConfig(
        name=name,
        transport="stdio",
        command=argv[0],
        args=argv[1:],
        toolkit=name,
        init_timeout=60.0,
        idle_timeout=IDLE_TIMEOUT,
    )


async def register(
    servers: ServerRegistrar,
    sessions: async_sessionmaker[AsyncSession],
    config: McpServerConfig,
    *,
    sandbox: str,
    network: bool,
) -> Registration:
    """Add the server to the catalog (it is started and its tools listed) and tag its tools."""
    info = await servers.add_mcp_server(config)
    tags = [BUILT_TAG, f"sandbox:{sandbox}", "network:granted" if network else "network:none"]
    async with sessions() as session:
        await session.execute(update(ToolRow).where(ToolRow.id.in_(info.tools)).values(tags=tags))
        await session.commit()
    # Re-announce the tools so the in-memory table and the discovery index see the tags.
    info = await servers.refresh_mcp_server(config.name)
    assert config.command is not None
    return Registration(
        server_name=info.name,
        toolkit=info.toolkit,
        tools=info.tools,
        command=config.command,
        args=config.args,
        sandbox=sandbox,
        network=network,
    )
