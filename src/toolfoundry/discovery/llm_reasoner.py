"""The three reasoning steps by a language model over the retrieved shortlist (never the whole
catalog). The model answers in validated structure; ids outside the shortlist are sent back."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field
from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.models import Model

from toolfoundry.core.models import Tool
from toolfoundry.discovery.results import (
    CapabilityGap,
    DiscoveryResult,
    ExecutionPlan,
    PlanStep,
    QueryAnalysis,
    RankedTool,
    ToolFiltering,
    ToolkitChoice,
    ToolkitSelection,
)
from toolfoundry.llm import load_prompt


class ChosenTool(BaseModel):
    id: str = Field(description="A tool id from the shortlist.")
    purpose: str
    subtasks: list[int] = Field(default_factory=list, description="Indexes into subtasks.")


class ModelSelection(BaseModel):
    """What the model returns; everything else is filled in from the catalog."""

    analysis: QueryAnalysis
    toolkits: list[str] = Field(description="Toolkit ids to draw from, best first.")
    selection_reasoning: str = ""
    combination_strategy: str = ""
    alternative_toolkits: list[str] = Field(default_factory=list)
    tools: list[ChosenTool] = Field(description="Tools in execution order.")
    backups: list[str] = Field(default_factory=list, description="Backup tool ids.")
    reasoning: str = ""
    gaps: list[CapabilityGap] = Field(default_factory=list)


def _shortlist_text(shortlist: list[Tool]) -> str:
    return "\n".join(
        json.dumps(
            {
                "id": t.id,
                "toolkit": t.toolkit,
                "description": t.description,
                "parameters": sorted(t.input_schema.get("properties", {})),
            },
            ensure_ascii=False,
        )
        for t in shortlist
    )


async def reason_with_model(
    model: Model,
    query: str,
    shortlist: list[Tool],
    tools: dict[str, Tool],
    retrieval: DiscoveryResult,
    *,
    top_k: int,
) -> DiscoveryResult:
    allowed = {t.id for t in shortlist}
    agent: Agent[None, ModelSelection] = Agent(
        model, output_type=ModelSelection, system_prompt=load_prompt("discovery"), retries=2
    )

    @agent.output_validator
    def only_shortlisted(_: RunContext[None], selection: ModelSelection) -> ModelSelection:
        invented = [c.id for c in selection.tools if c.id not in allowed] + [
            b for b in selection.backups if b not in allowed
        ]
        if invented:
            raise ModelRetry(
                f"These ids are not in the shortlist: {', '.join(invented)}. "
                f"Use only: {', '.join(sorted(allowed))}."
            )
        return selection

    prompt = (
        f"Request:\n{query}\n\nShortlist (one JSON object per line):\n{_shortlist_text(shortlist)}"
    )
    selection = (await agent.run(prompt)).output

    retrieved = {t.id: t for t in retrieval.tools + retrieval.tool_filtering.backup_options}

    def ranked(tool_id: str, rank: int, covers: list[int]) -> RankedTool:
        tool = tools[tool_id]
        prior = retrieved.get(tool_id)
        return RankedTool(
            id=tool.id,
            name=tool.name,
            toolkit=tool.toolkit,
            description=tool.description,
            input_schema=tool.input_schema,
            score=round(1.0 / (1 + rank), 6),  # the model's order, as a descending score
            signals=prior.signals if prior else {},
            covers=covers,
        )

    chosen = [ranked(c.id, i, c.subtasks) for i, c in enumerate(selection.tools[:top_k])]
    steps = [
        PlanStep(order=i + 1, tool=c.id, purpose=c.purpose, depends_on=[i] if i else [])
        for i, c in enumerate(selection.tools)
    ]
    kits = {
        k.id: k
        for k in retrieval.toolkit_selection.toolkits + retrieval.toolkit_selection.alternatives
    }

    def kit(kit_id: str) -> ToolkitChoice:
        return kits.get(kit_id) or ToolkitChoice(id=kit_id)

    # Coverage as the model judged it: the share of the request's parts it found no gap for.
    parts = max(1, len(selection.analysis.subtasks), len(selection.gaps))
    coverage = 1.0 - len(selection.gaps) / parts
    return DiscoveryResult(
        query=query,
        mode="llm",
        analysis=selection.analysis,
        toolkit_selection=ToolkitSelection(
            toolkits=[kit(k) for k in selection.toolkits],
            selection_reasoning=selection.selection_reasoning,
            combination_strategy=selection.combination_strategy,
            alternatives=[kit(k) for k in selection.alternative_toolkits],
        ),
        tool_filtering=ToolFiltering(
            tools=chosen,
            execution_plan=ExecutionPlan(
                steps=steps, strategy="single" if len(steps) <= 1 else "sequential"
            ),
            reasoning=selection.reasoning,
            backup_options=[
                ranked(b, i + len(chosen), []) for i, b in enumerate(selection.backups)
            ],
        ),
        coverage=round(coverage, 3),
        gaps=selection.gaps,
    )
