"""Closing capability gaps: reuse a similar asset or build one, within a time budget, and say
which tools the catalog gained."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from toolfoundry.discovery.results import CapabilityGap

if TYPE_CHECKING:
    from toolfoundry.builder.ports import GapCloser

log = logging.getLogger(__name__)


class GapResolution(BaseModel):
    """What became of one gap."""

    gap: CapabilityGap
    status: Literal["reused", "built", "pending", "failed", "skipped"]
    """`skipped`: automatic building is off (recent builds failed too often)."""
    build_id: str | None = None
    tools: list[str] = Field(default_factory=list, description="Catalog ids that now cover it.")
    message: str = ""


async def close_gap(host: GapCloser, gap: CapabilityGap, *, budget: float) -> GapResolution:
    """Reuse or build an MCP server for `gap`, waiting at most `budget` seconds. A build that
    is still running when the budget ends keeps running; its result registers when done."""
    from toolfoundry.builder.strategies.codereact.requirements import requirement_from_gap

    requirement = requirement_from_gap(gap)
    request = {
        "requirement": requirement.model_dump(mode="json"),
        "priority": gap.priority,
        "context": gap.context,
    }
    if host.settings.builder_url:
        return await _close_remotely(host, gap, request, budget)
    record = await host.build(request, budget=budget)
    if record.status == "completed" and record.result and record.result.mcp_asset:
        asset = record.result.mcp_asset
        return GapResolution(
            gap=gap,
            status="reused" if record.reused else "built",
            build_id=record.id,
            tools=asset.tools,
            message=f"{'reused' if record.reused else 'built'} MCP server {asset.server_name}",
        )
    if record.status in ("queued", "building", "testing"):
        return GapResolution(
            gap=gap,
            status="pending",
            build_id=record.id,
            message=f"build {record.id} still {record.status} after {budget:g} s; "
            "its tools register when it completes",
        )
    return GapResolution(
        gap=gap,
        status="failed",
        build_id=record.id,
        message=record.error_message or f"build {record.status}",
    )


async def _close_remotely(
    host: GapCloser, gap: CapabilityGap, request: dict, budget: float
) -> GapResolution:
    from toolfoundry.auth.token_file import read_admin_token
    from toolfoundry.builder.service.client import MCPBuilderClient

    settings = host.settings
    # Replicas share the database, so this data directory's admin token is valid there too.
    token = settings.builder_token or read_admin_token(settings.data_dir)
    async with MCPBuilderClient(settings.builder_url or "", api_key=token) as client:
        submitted = await client.submit_build_request(request)
        build_id = submitted["build_id"]
        status = await client.wait(build_id, budget)
        if status["status"] != "completed":
            state = "pending" if status["status"] in ("queued", "building", "testing") else "failed"
            return GapResolution(
                gap=gap, status=state, build_id=build_id, message=str(status.get("logs", [""])[-1:])
            )
        result = await client.get_build_result(build_id)
    asset = result.get("mcp_asset") or {}
    # The remote builder registered the server in the shared catalog; load its tools here.
    await host.reload(asset.get("tools", []))
    await host.servers.restore()
    return GapResolution(
        gap=gap,
        status="reused" if result.get("build_metrics", {}).get("reused") else "built",
        build_id=build_id,
        tools=asset.get("tools", []),
        message=f"built remotely: {asset.get('server_name', '')}",
    )
