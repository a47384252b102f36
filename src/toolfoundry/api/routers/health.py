"""Liveness, readiness and metrics."""

import contextlib

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from toolfoundry.api.deps import Library
from toolfoundry.api.problems import problem_responses

router = APIRouter(tags=["health"], responses=problem_responses(503))


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(library: Library) -> JSONResponse:
    """The service can serve: the database answers and the catalog is loaded."""
    checks: dict[str, str] = {}
    try:
        async with library.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}: {exc}"
    checks["tools"] = str(len(library.table.ids()))
    # Degraded, not unready: the automatic fallbacks keep the service answering.
    checks["discovery"] = library.discovery_guard.summary
    if checks["database"] == "ok":
        checks["auto_build"] = (await library.auto_build.state()).summary
    ok = checks["database"] == "ok"
    return JSONResponse(
        {"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(library: Library) -> Response:
    with contextlib.suppress(Exception):  # metrics must answer even when the database does not
        await library.auto_build.state()  # refreshes the auto-build gauges
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
