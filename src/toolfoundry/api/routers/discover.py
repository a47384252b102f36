"""/api/v1/discover: find the tools for a request."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from toolfoundry.api.deps import Library
from toolfoundry.discovery.results import DiscoveryResult

router = APIRouter(prefix="/api/v1", tags=["discovery"])


class DiscoverRequest(BaseModel):
    model_config = {"extra": "forbid"}

    query: str = Field(min_length=1, max_length=4000, description="The request, in plain language.")
    top_k: int = Field(default=5, ge=1, le=50)
    toolkits: list[str] | None = Field(default=None, description="Only search these toolkits.")
    mode: Literal["auto", "retrieval", "llm"] = "auto"


@router.post("/discover")
async def discover(body: DiscoverRequest, library: Library) -> DiscoveryResult:
    """Query analysis → toolkit selection → tool filtering with an execution plan, plus
    capability gaps for parts of the request nothing covers. `mode` says what produced it."""
    return await library.discover(
        body.query, top_k=body.top_k, toolkits=body.toolkits, mode=body.mode
    )
