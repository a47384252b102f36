"""Result models of discovery: the reference design's three steps, a plan, and capability gaps.

The same models come out of both modes; `mode` says which produced them ("retrieval" from the
hybrid index alone, "llm" when a model reasoned over the retrieved shortlist).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Mode = Literal["retrieval", "llm"]
Priority = Literal["high", "medium", "low"]


class QueryAnalysis(BaseModel):
    """Step 1: what the request asks for."""

    core_intent: str
    task_characteristics: list[str] = Field(default_factory=list)
    complexity_level: Literal["simple", "moderate", "complex"] = "simple"
    input_output_requirements: dict[str, str] = Field(default_factory=dict)
    technical_needs: list[str] = Field(default_factory=list)
    scenario_classification: str = Field(
        default="general", description="A scenario name; a model may invent a new one."
    )
    confidence_score: float = Field(default=0.0, ge=0.0, le=1.0)
    reasoning: str = ""
    subtasks: list[str] = Field(
        default_factory=list, description="The parts of the request, each to be covered."
    )


class ToolkitChoice(BaseModel):
    id: str
    description: str = ""
    category: str = "general"
    score: float = 0.0


class ToolkitSelection(BaseModel):
    """Step 2: which toolkits to draw from."""

    toolkits: list[ToolkitChoice] = Field(default_factory=list)
    selection_reasoning: str = ""
    combination_strategy: str = ""
    alternatives: list[ToolkitChoice] = Field(default_factory=list)


class RankedTool(BaseModel):
    """A tool found for the request, with what a caller needs to use it."""

    id: str
    name: str
    toolkit: str
    description: str
    input_schema: dict[str, Any] = Field(default_factory=dict)
    score: float = Field(description="Fused retrieval score (or the model's rank order).")
    signals: dict[str, float | None] = Field(default_factory=dict)
    covers: list[int] = Field(
        default_factory=list, description="Indexes of the subtasks this tool serves."
    )


class PlanStep(BaseModel):
    order: int
    tool: str
    purpose: str
    depends_on: list[int] = Field(default_factory=list)


class ExecutionPlan(BaseModel):
    steps: list[PlanStep] = Field(default_factory=list)
    strategy: Literal["single", "sequential", "parallel"] = "single"


class ToolFiltering(BaseModel):
    """Step 3: the tools to use, in what order, and fallbacks."""

    tools: list[RankedTool] = Field(default_factory=list)
    execution_plan: ExecutionPlan = Field(default_factory=ExecutionPlan)
    reasoning: str = ""
    backup_options: list[RankedTool] = Field(default_factory=list)


class CapabilityGap(BaseModel):
    """A part of the request no catalog tool covers well enough; the builder consumes these."""

    description: str
    technical_requirements: list[str] = Field(default_factory=list)
    priority: Priority = "medium"
    context: str = ""
    search_keywords: list[str] = Field(default_factory=list)
    coverage: float = Field(default=0.0, ge=0.0, le=1.0)


class DiscoveryResult(BaseModel):
    query: str
    mode: Mode
    analysis: QueryAnalysis
    toolkit_selection: ToolkitSelection
    tool_filtering: ToolFiltering
    coverage: float = Field(ge=0.0, le=1.0, description="How well the tools cover the request.")
    gaps: list[CapabilityGap] = Field(default_factory=list)
    latency_ms: float = 0.0
    catalog_version: int = 0
    fallback_reason: str | None = Field(
        default=None, description="Why an LLM answer was not used, when mode fell back."
    )
    tokens: dict[str, int] | None = Field(
        default=None, description="Model tokens spent (input, output) in mode llm."
    )

    @property
    def tools(self) -> list[RankedTool]:
        return self.tool_filtering.tools
