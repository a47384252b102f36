"""What a trajectory is: one agent run, its steps in order, and what was learned from runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from toolfoundry.core.models import utcnow


class StepType(StrEnum):
    """The reference design's step kinds, plus discovery and builds as this library does them."""

    SCENARIO_IDENTIFICATION = "scenario_identification"
    TASK_DECOMPOSITION = "task_decomposition"
    TOOLKIT_SELECTION = "toolkit_selection"
    TOOL_SELECTION = "tool_selection"
    TOOL_EXECUTION = "tool_execution"
    CAPABILITY_BUILD = "capability_build"
    LLM_REASONING = "llm_reasoning"


TrajectoryStatus = Literal["running", "succeeded", "failed"]


class StepInput(BaseModel):
    """A step as a client reports it (REST body, `TrajectoryRun.step`)."""

    model_config = ConfigDict(extra="forbid")

    step_type: StepType
    tool_id: str | None = Field(
        default=None,
        description="The tool this step is about; required for tool_execution steps.",
        max_length=256,
    )
    input: dict[str, Any] = Field(default_factory=dict)
    output: dict[str, Any] = Field(default_factory=dict)
    llm_interaction: dict[str, Any] | None = Field(
        default=None, description="prompt, response and model, when a model made this decision."
    )
    performance: dict[str, Any] | None = None
    duration_ms: float | None = Field(default=None, ge=0)
    success: bool = True
    error_type: str | None = Field(default=None, max_length=128)


class TrajectoryStep(StepInput):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    trajectory_id: str
    index: int
    created_at: datetime = Field(default_factory=utcnow)


class TrajectoryStart(BaseModel):
    """What an agent knows when a run begins."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, description="The user's request, as the agent received it.")
    scenario: str | None = Field(
        default=None, max_length=100, description="The scenario the agent identified, if any."
    )
    agent_version: str | None = Field(default=None, max_length=50)
    llm_model: str | None = Field(default=None, max_length=100)
    metadata: dict[str, Any] = Field(default_factory=dict)


class TrajectoryFinish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    success: bool = Field(description="Did the run achieve what the user asked?")
    result: dict[str, Any] | None = Field(default=None, description="The final answer or summary.")
    scenario: str | None = Field(
        default=None, max_length=100, description="Set or correct the scenario at the end."
    )


class Trajectory(BaseModel):
    id: str
    query: str
    scenario: str | None = None
    agent_version: str | None = None
    llm_model: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    status: TrajectoryStatus = "running"
    success: bool | None = None
    result: dict[str, Any] | None = None
    total_steps: int = 0
    duration_ms: float | None = None
    started_at: datetime
    ended_at: datetime | None = None
    steps: list[TrajectoryStep] | None = Field(
        default=None, description="Filled when one trajectory is read, not in listings."
    )


class ScenarioUsage(BaseModel):
    scenario: str = Field(description='"" for runs that named no scenario.')
    uses: int
    call_success_rate: float
    runs: int
    run_success_rate: float | None


class ErrorPattern(BaseModel):
    type: str
    count: int
    share: float = Field(description="Share of the tool's recorded calls that failed this way.")
    example: str | None = None


class Companion(BaseModel):
    tool_id: str
    runs: int = Field(description="Successful runs that used both tools.")


class ToolInsights(BaseModel):
    """What usage taught about one tool: the material for a better description and ranking."""

    tool_id: str
    calls: int
    call_success_rate: float | None
    avg_duration_ms: float | None
    runs: int = Field(description="Finished runs in which the tool was called.")
    run_success_rate: float | None
    effectiveness_score: float
    scenarios: list[ScenarioUsage]
    common_errors: list[ErrorPattern]
    example_requests: list[str] = Field(
        description="Requests of successful runs that used the tool, newest first."
    )
    used_with: list[Companion]
    notes: list[str] = Field(description="Usage notes for a model, derived from the above.")


class ToolCombination(BaseModel):
    """An ordered set of tools that finished runs used together."""

    tools: list[str]
    scenario: str | None
    runs: int
    success_rate: float
    example_request: str
