"""Checks before a stored asset answers a new request: it is registered, and (for a similar
rather than identical request) it reproduces the request's examples through a live call."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolfoundry.builder.models import BuildRequirement
from toolfoundry.builder.service.queue import (
    BuildMetrics,
    BuildQueue,
    BuildRecord,
    BuildRequest,
    BuildResult,
    new_row,
)
from toolfoundry.builder.service.registration import IDLE_TIMEOUT, register
from toolfoundry.builder.service.repository import McpAsset, McpRepository
from toolfoundry.builder.stages.validator import example_arguments, outputs_match
from toolfoundry.core import metrics
from toolfoundry.core.errors import NotFoundError, ToolfoundryError
from toolfoundry.core.models import utcnow
from toolfoundry.mcp import McpServerConfig

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from toolfoundry.builder.ports import ServerRegistrar, ToolRunner

log = logging.getLogger(__name__)


async def ensure_registered(
    servers: ServerRegistrar, sessions: async_sessionmaker[AsyncSession], asset: McpAsset
) -> list[str]:
    """The asset's catalog tool ids, registering its server again if it was removed."""
    try:
        return (await servers.get_mcp_server(asset.server_name)).tools
    except NotFoundError:
        pass
    if not await asyncio.to_thread(Path(asset.path).is_dir):
        raise NotFoundError(f"the files of asset {asset.id} are gone ({asset.path})")
    config = McpServerConfig(
        name=asset.server_name,
        transport="stdio",
        command=asset.launch["command"],
        args=asset.launch["args"],
        toolkit=asset.toolkit,
        init_timeout=60.0,
        idle_timeout=IDLE_TIMEOUT,
    )
    registration = await register(
        servers, sessions, config, sandbox=asset.launch["sandbox"], network=asset.network
    )
    return registration.tools


async def failing_examples(
    tools: ToolRunner, tool_ids: list[str], requirement: BuildRequirement
) -> list[str]:
    """The request's examples that none of the asset's tools reproduces."""
    found = [await tools.get_tool(tool_id) for tool_id in tool_ids]
    failing = []
    for example in requirement.examples:
        if not any([await _reproduces(tools, tool, example) for tool in found]):
            failing.append(f"{example.input!r} => {example.expected!r}")
    return failing


async def _reproduces(tools: ToolRunner, tool: Any, example: Any) -> bool:
    if example.tool not in (None, tool.name):
        return False
    try:
        arguments = example_arguments(example.input, tool.input_schema)
        result = await tools.call(tool.id, arguments)
    except (ValueError, ToolfoundryError):
        return False
    if result.is_error:
        return False
    structured = result.structured
    if isinstance(structured, dict) and set(structured) == {"result"}:
        structured = structured["result"]
    return outputs_match(example.expected, structured) or outputs_match(
        example.expected, result.content
    )


async def reuse_asset(
    servers: ServerRegistrar,
    tools: ToolRunner,
    repository: McpRepository,
    queue: BuildQueue,
    build_id: str,
    request: BuildRequest,
    requirement: BuildRequirement,
) -> BuildRecord | None:
    """A completed build record answering `request` with a stored asset that serves it (same
    requirement, or a similar one whose examples still pass), or None to build."""
    started = time.monotonic()
    for match in await repository.find_similar(requirement):
        asset = match.asset
        try:
            tool_ids = await ensure_registered(servers, repository.sessions, asset)
            if match.match == "similar" and requirement.examples:
                failed = await failing_examples(tools, tool_ids, requirement)
                if failed:
                    log.info("asset %s is similar but fails %s", asset.id, failed)
                    continue
        except ToolfoundryError as exc:
            log.warning("asset %s not reusable: %s", asset.id, exc.detail)
            continue
        await repository.record_use(asset.id)
        asset = await repository.get(asset.id)
        elapsed = round(time.monotonic() - started, 3)
        result = BuildResult(
            build_id=build_id,
            success=True,
            mcp_asset=asset,
            build_metrics=BuildMetrics(
                strategy=asset.strategy,
                mode="reuse",
                reused=True,
                match=match.match,
                similarity=match.similarity,
                duration_s=elapsed,
                queue_wait_s=0.0,
            ),
            test_results=asset.validation,
            security=asset.security,
        )
        now = utcnow()
        message = (
            f"reused asset {asset.id} ({match.match} match, similarity {match.similarity:.2f})"
            f": server {asset.server_name}, tools {', '.join(asset.tools)}"
        )
        record = await queue.add(
            new_row(
                build_id,
                request,
                requirement,
                status="completed",
                strategy=asset.strategy,
                progress=1.0,
                current_phase="completed",
                logs=[message],
                result=result.model_dump(mode="json"),
                asset_id=asset.id,
                reused=True,
                created_at=now,
                started_at=now,
                finished_at=now,
            )
        )
        metrics.BUILD_REQUESTS.labels(request.priority, "reused").inc()
        log.info("build %s: %s in %.2fs", build_id, message, elapsed)
        return record
    return None
