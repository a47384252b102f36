"""/api/v1/trajectories: agent runs recorded step by step, and the tool combinations they used."""

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from toolfoundry.api.deps import Library
from toolfoundry.api.problems import problem_responses
from toolfoundry.trajectory import (
    StepInput,
    ToolCombination,
    Trajectory,
    TrajectoryFinish,
    TrajectoryStart,
    TrajectoryStep,
)
from toolfoundry.trajectory.service import MAX_RETENTION_DAYS

router = APIRouter(
    prefix="/api/v1/trajectories",
    tags=["trajectories"],
    responses=problem_responses(400, 404, 409, 422, 503),
)


@router.post("", status_code=status.HTTP_201_CREATED)
async def start_trajectory(body: TrajectoryStart, library: Library) -> Trajectory:
    """Start recording a run. Add steps with `POST .../{id}/steps` (or call tools with
    `trajectory_id` in the call body), then `POST .../{id}/finish`."""
    return await library.trajectories.start(body)


@router.get("")
async def list_trajectories(
    library: Library,
    limit: int = Query(50, ge=1, le=1000),
    scenario: str | None = None,
    success: bool | None = None,
    tool: str | None = Query(None, description="Only runs that called this tool."),
) -> list[Trajectory]:
    """Newest first, without steps."""
    return await library.trajectories.list(
        limit=limit, scenario=scenario, success=success, tool_id=tool
    )


class Pruned(BaseModel):
    deleted: int


@router.delete("")
async def prune_trajectories(
    library: Library,
    older_than_days: float = Query(
        ...,
        ge=0,
        le=MAX_RETENTION_DAYS,  # bounded, so the cut-off date is always representable
        allow_inf_nan=False,
        description=f"Delete finished runs started longer ago than this (at most "
        f"{MAX_RETENTION_DAYS}).",
    ),
) -> Pruned:
    """Retention: delete old finished runs and their steps. Tool metrics keep what they taught."""
    return Pruned(deleted=await library.trajectories.prune(older_than_days))


@router.get("/combinations")
async def tool_combinations(
    library: Library,
    scenario: str | None = None,
    min_runs: int = Query(2, ge=1),
    limit: int = Query(20, ge=1, le=200),
) -> list[ToolCombination]:
    """Tool sequences that finished runs used together, with their success rate."""
    return await library.trajectories.combinations(
        scenario=scenario, min_runs=min_runs, limit=limit
    )


@router.get("/{trajectory_id}")
async def get_trajectory(trajectory_id: str, library: Library) -> Trajectory:
    """One run with all its steps in order."""
    return await library.trajectories.get(trajectory_id)


@router.post("/{trajectory_id}/steps", status_code=status.HTTP_201_CREATED)
async def add_step(trajectory_id: str, body: StepInput, library: Library) -> TrajectoryStep:
    """Append a step (scenario_identification, task_decomposition, toolkit_selection,
    tool_selection, tool_execution, capability_build, llm_reasoning). 409 once finished."""
    return await library.trajectories.add_step(trajectory_id, body)


@router.post("/{trajectory_id}/finish")
async def finish_trajectory(
    trajectory_id: str, body: TrajectoryFinish, library: Library
) -> Trajectory:
    """Close the run with its outcome; the tools it used learn from it at once."""
    return await library.trajectories.finish(trajectory_id, body)
