"""The three reasoning steps from retrieval alone: the result models a model would fill, filled
from ranked candidates and coverage estimates, marked `mode: "retrieval"`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from toolfoundry.core.models import Tool, Toolkit
from toolfoundry.discovery import analysis
from toolfoundry.discovery.index import ScoredTool
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


@dataclass
class PartEvidence:
    """What retrieval found for one part of the request."""

    text: str
    hits: list[ScoredTool]  # best-ranked first
    coverage: dict[str, float]  # tool id → coverage of this part
    uncovered_terms: list[str]
    threshold: float = 0.8
    features: dict[str, np.ndarray] = field(default_factory=dict)  # tool id → coverage features
    cosines: list[float] = field(default_factory=list)  # of ``hits``, in the embedder's scale
    embedder: str = ""  # the model that made ``cosines``

    @property
    def best(self) -> tuple[str | None, float]:
        """The best-ranked tool that covers the part, with its coverage; if none does, the
        best-ranked tool with the closest any tool came.

        Ranking decides which tool (it weighs far more evidence than coverage); coverage only
        decides whether the part is covered at all."""
        if not self.hits:
            return None, 0.0
        for hit in self.hits:
            if self.coverage.get(hit.id, 0.0) >= self.threshold:
                return hit.id, self.coverage[hit.id]
        return self.hits[0].id, max(self.coverage.values(), default=0.0)


def ranked(tool: Tool, hit: ScoredTool, covers: list[int]) -> RankedTool:
    return RankedTool(
        id=tool.id,
        name=tool.name,
        toolkit=tool.toolkit,
        description=tool.description,
        input_schema=tool.input_schema,
        score=round(hit.score, 6),
        signals=hit.signals.model_dump(),
        covers=covers,
    )


def reason(
    query: str,
    parts: Sequence[PartEvidence],
    whole: list[ScoredTool],
    tools: dict[str, Tool],
    toolkits: dict[str, Toolkit],
    *,
    top_k: int,
    gap_threshold: float,
    absence: float | None = None,
    min_absence: float = 0.0,
) -> DiscoveryResult:
    """``absence``: the gap model's probability that a needed tool is missing (None: not
    judged); below ``min_absence`` an uncovered part is not reported as a gap but served by
    its best tool."""
    subtasks = [p.text for p in parts]
    # Every part's best tool first (in request order), then the best of the whole request.
    chosen: dict[str, list[int]] = {}
    for index, part in enumerate(parts):
        best, _ = part.best
        if best is not None:
            chosen.setdefault(best, []).append(index)
    hits = {h.id: h for part in parts for h in part.hits}
    hits.update({h.id: h for h in whole})
    order = list(chosen) + [h.id for h in whole if h.id not in chosen]
    order = [t for t in order if t in tools]
    selected = [ranked(tools[t], hits[t], chosen.get(t, [])) for t in order[:top_k]]
    backups = [ranked(tools[t], hits[t], []) for t in order[top_k : top_k + 3]]

    coverages = [part.best[1] for part in parts]
    coverage = sum(coverages) / len(coverages) if coverages else 0.0
    gate_open = absence is None or absence >= min_absence

    def uncovered(cov: float) -> bool:
        return gate_open and cov < gap_threshold

    gaps = [
        CapabilityGap(
            description=part.text,
            technical_requirements=analysis.keywords(part.text, set(part.uncovered_terms))
            or analysis.keywords(part.text),
            # high: the request cannot proceed at all; low: a near miss a tool almost covers.
            priority="high" if len(parts) == 1 or cov < 0.4 else "low" if cov >= 0.7 else "medium",
            context=query,
            search_keywords=analysis.keywords(part.text),
            coverage=round(cov, 3),
        )
        for part, cov in zip(parts, coverages, strict=True)
        if uncovered(cov)
    ]

    steps = []
    for part in parts:
        best, cov = part.best
        if best is None or uncovered(cov):
            continue
        steps.append(
            PlanStep(
                order=len(steps) + 1,
                tool=best,
                purpose=part.text,
                depends_on=[len(steps)] if steps else [],
            )
        )
    plan = ExecutionPlan(steps=steps, strategy="single" if len(steps) <= 1 else "sequential")

    kit_scores: dict[str, float] = {}
    for tool in selected + backups:
        kit_scores[tool.toolkit] = max(kit_scores.get(tool.toolkit, 0.0), tool.score)
    used = list(dict.fromkeys(tools[s.tool].toolkit for s in steps)) or list(kit_scores)[:1]

    def choice(kit: str) -> ToolkitChoice:
        meta = toolkits.get(kit)
        return ToolkitChoice(
            id=kit,
            description=meta.description if meta else "",
            category=meta.category if meta else "general",
            score=round(kit_scores.get(kit, 0.0), 6),
        )

    top_kit = toolkits.get(used[0]) if used else None
    return DiscoveryResult(
        query=query,
        mode="retrieval",
        analysis=QueryAnalysis(
            core_intent=query.strip(),
            task_characteristics=[f"{len(subtasks)} step(s)"]
            + (["multi-toolkit"] if len(used) > 1 else []),
            complexity_level=analysis.complexity(subtasks),  # type: ignore[arg-type]
            input_output_requirements=analysis.io_requirements(query),
            technical_needs=analysis.technical_needs(query),
            scenario_classification=top_kit.category if top_kit else "general",
            confidence_score=round(min(1.0, coverage), 3),
            reasoning=(
                f"Retrieval only: split into {len(subtasks)} part(s); ranked {len(tools)} "
                "candidate tools by hybrid lexical + dense similarity with toolkit context; "
                f"coverage {coverage:.2f} (gap threshold {gap_threshold:.2f})"
                + ("." if absence is None else f"; absence probability {absence:.2f}.")
            ),
            subtasks=subtasks,
        ),
        toolkit_selection=ToolkitSelection(
            toolkits=[choice(k) for k in used],
            selection_reasoning="Toolkits of the best tool for each part of the request.",
            combination_strategy=(
                "single toolkit" if len(used) <= 1 else "sequential: " + " → ".join(used)
            ),
            alternatives=[choice(k) for k in kit_scores if k not in used],
        ),
        tool_filtering=ToolFiltering(
            tools=selected,
            execution_plan=plan,
            reasoning="Per part, the candidate with the highest coverage; then the best-ranked "
            "tools for the whole request.",
            backup_options=backups,
        ),
        coverage=round(min(1.0, coverage), 3),
        gaps=gaps,
    )
