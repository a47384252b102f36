"""/api/v1/calls: the call log."""

from fastapi import APIRouter, Query

from toolfoundry.api.deps import Library
from toolfoundry.api.problems import problem_responses
from toolfoundry.core.models import CallRecord

router = APIRouter(prefix="/api/v1/calls", tags=["calls"], responses=problem_responses(422, 503))


@router.get("")
async def recent_calls(
    library: Library, limit: int = Query(50, ge=1, le=1000), tool: str | None = None
) -> list[CallRecord]:
    """Most recent calls first."""
    return await library.recent_calls(limit, tool)
