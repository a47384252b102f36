"""What a trajectory is: one agent run, its steps in order, and what was learned from runs."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from toolfoundry.core.models import UtcDatetime, utcnow


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
MAX_STEP_BYTES = 256 * 1024


class StepInput(BaseModel):
    """A step as a client reports it (REST body, `TrajectoryRun.step`); field names are the
    reference design's `TrajectoryStep`."""

    model_config = ConfigDict(extra="forbid")

    step_type: StepType
    tool_id: str | None = Field(
        default=None,
        description="The tool this step is about; required for tool_execution steps.",
        max_length=256,
    )
    input_data: dict[str, Any] = Field(default_factory=dict)
    output_data: dict[str, Any] = Field(default_factory=dict)
    llm_interaction: dict[str, Any] | None = Field(
        default=None, description="prompt, response and model, when a model made this decision."
    )
    performance_metrics: dict[str, Any] | None = None
    execution_time: float | None = Field(default=None, ge=0, description="Seconds.")
    success: StrictBool = True
    error_type: str | None = Field(default=None, max_length=128)

    @model_validator(mode="after")
    def _bounded(self) -> StepInput:
        # A step is a record of a decision, not a blob store: a runaway payload would bloat
        # every read of the run.
        size = len(
            json.dumps(
                [self.input_data, self.output_data, self.llm_interaction, self.performance_metrics],
                default=str,
            )
        )
        if size > MAX_STEP_BYTES:
            raise ValueError(
                f"the step's data is {size:,} bytes; at most {MAX_STEP_BYTES:,} are kept — "
                "store large outputs elsewhere and record a reference or a summary"
            )
        return self


class TrajectoryStep(StepInput):
    model_config = ConfigDict(extra="ignore")

    trajectory_id: str
    step_index: int
    timestamp: UtcDatetime = Field(default_factory=utcnow)


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

    success: StrictBool = Field(description="Did the run achieve what the user asked?")
    result: dict[str, Any] | None = Field(default=None, description="The final answer or summary.")
    scenario: str | None = Field(
        default=None, max_length=100, description="Set or correct the scenario at the end."
    )


class Trajectory(BaseModel):
    """A run as the reference design's `agent_trajectories` row, plus its status and result."""

    trajectory_id: str
    user_query: str
    identified_scenario: str | None = None
    agent_version: str | None = None
    llm_model: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    status: TrajectoryStatus = "running"
    start_time: UtcDatetime
    end_time: UtcDatetime | None = None
    final_success: bool | None = None
    final_result: dict[str, Any] | None = None
    total_steps: int = 0
    total_execution_time: float | None = Field(default=None, description="Seconds.")
    steps: list[TrajectoryStep] | None = Field(
        default=None, description="Filled when one trajectory is read, not in listings."
    )


class ScenarioUsage(BaseModel):
    """One `tool_effectiveness_metrics` row: a tool in one scenario."""

    scenario_type: str = Field(description='"" for runs that named no scenario.')
    usage_count: int
    success_count: int
    run_count: int
    run_success_count: int
    total_execution_time: float = Field(description="Seconds over all uses.")
    avg_effectiveness_score: float = Field(
        description="Smoothed success over calls and run outcomes; 0.5 with no evidence."
    )
    last_used_at: UtcDatetime | None = None


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
