"""/api/v1/discover: find the tools for a request."""

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StrictBool

from toolfoundry.api.deps import Library, require_scope
from toolfoundry.api.problems import problem_responses
from toolfoundry.auth.scopes import Scope
from toolfoundry.builder import GapResolution
from toolfoundry.discovery.results import DiscoveryResult

router = APIRouter(
    prefix="/api/v1", tags=["discovery"], responses=problem_responses(400, 422, 502, 503)
)


class DiscoverRequest(BaseModel):
    model_config = {"extra": "forbid"}

    query: str = Field(min_length=1, max_length=4000, description="The request, in plain language.")
    top_k: int = Field(default=5, ge=1, le=50)
    toolkits: list[str] | None = Field(default=None, description="Only search these toolkits.")
    mode: Literal["auto", "retrieval", "llm"] = "auto"
    build_missing: StrictBool = Field(
        default=False,
        description="Close gaps: reuse a similar built server or build one, then discover again.",
    )
    budget: float | None = Field(
        default=None, gt=0, le=3600, description="Seconds to wait for builds (default: setting)."
    )


class DiscoverResponse(DiscoveryResult):
    gap_resolutions: list[GapResolution] = Field(
        default_factory=list, description="With build_missing: what became of each gap."
    )


@router.post("/discover")
async def discover(body: DiscoverRequest, library: Library, request: Request) -> DiscoverResponse:
    """Query analysis → toolkit selection → tool filtering with an execution plan, plus
    capability gaps for parts of the request nothing covers. `mode` says what produced it."""
    if not body.build_missing:
        result = await library.discover(
            body.query, top_k=body.top_k, toolkits=body.toolkits, mode=body.mode
        )
        return DiscoverResponse(**result.model_dump())
    require_scope(request, Scope.build)  # building is more than the route's `read`
    result, resolutions = await library.discover_and_build(
        body.query, top_k=body.top_k, toolkits=body.toolkits, mode=body.mode, budget=body.budget
    )
    return DiscoverResponse(**result.model_dump(), gap_resolutions=resolutions)
