"""/api/v1/agent/run: complete a request with the configured model, recorded as a trajectory."""

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from toolfoundry.agent import AgentRunResult
from toolfoundry.api.deps import Library, require_scope
from toolfoundry.api.problems import problem_responses
from toolfoundry.auth.scopes import Scope

router = APIRouter(
    prefix="/api/v1/agent", tags=["agent"], responses=problem_responses(400, 404, 422, 502, 503)
)


class AgentRunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, description="The user's request.")
    scenario: str | None = Field(default=None, max_length=100)
    top_k: int = Field(default=5, ge=1, le=20, description="Tools discovery offers the model.")
    max_tool_calls: int = Field(default=20, ge=1, le=200)
    build_missing: StrictBool = Field(
        default=False, description="Build (or reuse) MCP servers for capability gaps first."
    )
    discover_mode: Literal["auto", "retrieval", "llm"] = "auto"


@router.post("/run")
async def run_agent(body: AgentRunBody, library: Library, request: Request) -> AgentRunResult:
    """Discover tools, optionally close gaps, let the model call the tools, and answer. The run
    is a trajectory (`trajectory_id`). 422 without a configured model; 503 if the model fails."""
    if body.build_missing:
        require_scope(request, Scope.build)  # building is more than the route's `call`
    return await library.run_agent(
        body.query,
        scenario=body.scenario,
        top_k=body.top_k,
        max_tool_calls=body.max_tool_calls,
        build_missing=body.build_missing,
        discover_mode=body.discover_mode,
    )
