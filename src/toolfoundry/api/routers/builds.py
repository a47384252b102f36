"""/api/v1/build: submit MCP server builds, follow their progress, read their results."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from toolfoundry.api.auth_middleware import WS_SUBPROTOCOL
from toolfoundry.api.deps import Library
from toolfoundry.api.problems import problem_responses
from toolfoundry.builder import BuildRecord, BuildRequest, BuildResult, BuildStatus, BuildStatusView
from toolfoundry.core.errors import NotFoundError
from toolfoundry.core.models import UtcDatetime, utcnow

router = APIRouter(
    prefix="/api/v1", tags=["builds"], responses=problem_responses(400, 404, 409, 422, 503)
)


class BuildAccepted(BaseModel):
    build_id: str
    status: BuildStatus
    """`queued`, or `completed` at once when an existing asset was reused."""
    estimated_completion: UtcDatetime
    message: str


@router.post("/build", status_code=status.HTTP_202_ACCEPTED)
async def submit_build(request: BuildRequest, library: Library) -> BuildAccepted:
    """Queue a build of an MCP server for the requirement; a request that an existing asset
    already serves (same requirement within 24 h, or a similar one whose examples pass) is
    answered at once with a completed build that reuses it."""
    service = library.builds
    record = await service.submit(request)
    if record.reused:
        message = record.logs[-1]
        eta = utcnow()
    else:
        message = "build accepted and queued; follow it at " + f"/api/v1/build/{record.id}/status"
        eta = utcnow() + timedelta(seconds=service.estimated_completion_s())
    return BuildAccepted(
        build_id=record.id, status=record.status, estimated_completion=eta, message=message
    )


@router.get("/build/{build_id}/status")
async def build_status(build_id: str, library: Library) -> BuildStatusView:
    """Status, progress (0–1), current phase, the latest log lines and an estimate of the
    seconds left."""
    return await library.builds.status(build_id)


@router.get("/build/{build_id}/result")
async def build_result(build_id: str, library: Library) -> BuildResult:
    """The outcome: the registered MCP asset, or the error; 409 while the build runs."""
    return await library.builds.result(build_id)


@router.get("/build/{build_id}/files/{name}", response_class=PlainTextResponse)
async def build_file(build_id: str, name: str, library: Library) -> PlainTextResponse:
    """A file of the server a build produced (`server.py`, `test_server.py`, …) as text;
    only the names its result lists."""
    result = await library.builds.result(build_id)
    asset = result.mcp_asset
    if asset is None or name not in asset.files:
        raise NotFoundError(
            f"build {build_id} produced no file {name!r}",
            hint="Its files are listed in GET /api/v1/build/{id}/result under mcp_asset.files.",
        )
    try:
        # An asset keeps the server's code in `server/` beside its venv and work directory.
        text = (Path(asset.path) / "server" / name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NotFoundError(
            f"file {name!r} of build {build_id} cannot be read on this replica: {exc}",
            hint="The asset lives in the data directory of the process that built it.",
        ) from exc
    return PlainTextResponse(text)


@router.post("/build/{build_id}/cancel")
async def cancel_build(build_id: str, library: Library) -> BuildRecord:
    """Cancel a queued build, or stop a running one with every process it started; 409 if it
    already finished."""
    return await library.builds.cancel(build_id)


@router.get("/builds")
async def list_builds(
    library: Library,
    status: BuildStatus | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> list[BuildRecord]:
    """Builds, newest first."""
    return await library.builds.list(status, limit)


@router.websocket("/build/{build_id}/ws")
async def build_progress(websocket: WebSocket, build_id: str) -> None:
    """Progress events (`{"type": "progress_update", "data": {...}}`) until the final one,
    whose `data.final` is true; then the server closes the socket."""
    # A browser that sent its token as the subprotocols ["bearer", token] needs "bearer" back.
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol=WS_SUBPROTOCOL if WS_SUBPROTOCOL in offered else None)
    service = websocket.app.state.library.builds
    try:
        async with contextlib.aclosing(service.watch(build_id)) as events:
            async for event in events:
                await websocket.send_json(
                    {"type": "progress_update", "data": event.model_dump(mode="json")}
                )
    except NotFoundError as exc:
        await websocket.send_json({"type": "error", "problem": exc.to_problem()})
        await websocket.close(code=4404)
        return
    except WebSocketDisconnect:
        return
    await websocket.close()
