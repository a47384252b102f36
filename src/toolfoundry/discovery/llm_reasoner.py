"""Discovery's reasoning by a language model, made for small, slow models: the model sees the
retrieved shortlist as compact numbered lines (``3. text.slugify: Turn text into a URL slug``)
and answers with plain lines — the numbers of the tools it picks, best first, and ``GAP:``
lines. Everything else (schemas, plan, toolkits, analysis) is derived from the catalog and the
retrieval result, and the retrieval order fills in after the model's picks and breaks ties, so
the model can only reorder within the shortlist, never lose a tool retrieval found."""

from __future__ import annotations

import re

from pydantic_ai import Agent
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from toolfoundry.core.models import Tool
from toolfoundry.discovery import analysis
from toolfoundry.discovery.results import (
    CapabilityGap,
    DiscoveryResult,
    ExecutionPlan,
    PlanStep,
    RankedTool,
)
from toolfoundry.llm import load_prompt

__all__ = ["ModelPick", "parse_answer", "reason_with_model", "shortlist_text"]

_DESCRIPTION_CHARS = 90  # per candidate line: the first sentence says what a tool does
_MAX_OUTPUT_TOKENS = 64  # a few numbers and a gap line or two
# Only the model's first pick moves ahead of retrieval's order: a small model lists five to ten
# tools, and after its first the rest is filler (measured on MetaTool with Qwen2.5-Coder-1.5B:
# its full list pushed relevant tools out of the top 5 — docs/benchmarks.md).
_TRUSTED_PICKS = 1
_GAP = re.compile(r"^\W*(?:gap|missing|缺少|缺口)\s*[:：]\s*(.+)$", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])(\d{1,2})(?![\w])")


class ModelPick:
    """The model's answer, parsed: shortlist positions best first, and gap texts."""

    def __init__(self, order: list[int], gaps: list[str]) -> None:
        self.order = order
        self.gaps = gaps


def _short(text: str) -> str:
    first = re.split(r"(?<=[.!?。])\s", text.strip(), maxsplit=1)[0]
    return first if len(first) <= _DESCRIPTION_CHARS else first[: _DESCRIPTION_CHARS - 1] + "…"


def shortlist_text(shortlist: list[Tool]) -> str:
    return "\n".join(f"{i + 1}. {t.id}: {_short(t.description)}" for i, t in enumerate(shortlist))


def parse_answer(text: str, shortlist: list[Tool]) -> ModelPick:
    """Read numbers (or tool ids / names) and GAP lines from a small model's free answer;
    anything else is ignored, unknown numbers and ids included."""
    by_id = {t.id.lower(): i for i, t in enumerate(shortlist)}
    by_name = {t.name.lower(): i for i, t in enumerate(shortlist)}
    order: list[int] = []
    gaps: list[str] = []
    for line in text.replace("`", "").splitlines():
        line = line.strip()
        if not line:
            continue
        if gap := _GAP.match(line):
            gaps.append(gap.group(1).strip().rstrip("."))
            continue
        lowered = line.lower()
        found = [i for tool_id, i in by_id.items() if tool_id in lowered]
        if not found:
            found = [
                i for name, i in by_name.items() if re.search(rf"\b{re.escape(name)}\b", lowered)
            ]
        if not found:
            found = [int(n) - 1 for n in _NUMBER.findall(line) if 0 < int(n) <= len(shortlist)]
        order.extend(i for i in found if i not in order)
    return ModelPick(order, gaps)


async def reason_with_model(
    model: Model,
    query: str,
    shortlist: list[Tool],
    retrieval: DiscoveryResult,
    *,
    top_k: int,
) -> DiscoveryResult:
    agent: Agent[None, str] = Agent(model, system_prompt=load_prompt("discovery"))
    prompt = f"Request: {query}\n\nCandidates:\n{shortlist_text(shortlist)}"
    run = await agent.run(
        prompt, model_settings=ModelSettings(max_tokens=_MAX_OUTPUT_TOKENS, temperature=0.0)
    )
    pick = parse_answer(run.output, shortlist)
    usage = run.usage
    # The model's first pick, then retrieval's order for the rest (its fallback and tiebreak).
    retrieved = [t.id for t in retrieval.tools + retrieval.tool_filtering.backup_options]
    ids = [shortlist[i].id for i in pick.order[:_TRUSTED_PICKS]]
    ids += [t for t in retrieved + [s.id for s in shortlist] if t not in ids]
    known = {t.id: t for t in retrieval.tools + retrieval.tool_filtering.backup_options}
    by_id = {t.id: t for t in shortlist}

    def ranked(tool_id: str, rank: int) -> RankedTool:
        if (prior := known.get(tool_id)) is not None:
            return prior.model_copy(update={"score": round(1.0 / (1 + rank), 6)})
        tool = by_id[tool_id]
        return RankedTool(
            id=tool.id,
            name=tool.name,
            toolkit=tool.toolkit,
            description=tool.description,
            input_schema=tool.input_schema,
            score=round(1.0 / (1 + rank), 6),
        )

    chosen = [ranked(t, i) for i, t in enumerate(ids[:top_k])]
    backups = [ranked(t, i + top_k) for i, t in enumerate(ids[top_k : top_k + 3])]
    picked = [shortlist[i].id for i in pick.order]
    steps = [
        PlanStep(
            order=i + 1, tool=t, purpose=by_id[t].description[:120], depends_on=[i] if i else []
        )
        for i, t in enumerate(picked)
    ] or retrieval.tool_filtering.execution_plan.steps
    gaps = [
        CapabilityGap(
            description=g,
            technical_requirements=analysis.keywords(g),
            priority="high" if not picked else "medium",
            context=query,
            search_keywords=analysis.keywords(g),
        )
        for g in pick.gaps
    ]
    parts = max(1, len(retrieval.analysis.subtasks))
    coverage = retrieval.coverage if not gaps else max(0.0, 1.0 - len(gaps) / parts)
    return retrieval.model_copy(
        update={
            "mode": "llm",
            "tool_filtering": retrieval.tool_filtering.model_copy(
                update={
                    "tools": chosen,
                    "backup_options": backups,
                    "execution_plan": ExecutionPlan(
                        steps=steps, strategy="single" if len(steps) <= 1 else "sequential"
                    ),
                    "reasoning": "The model's choice within the retrieved shortlist: "
                    + run.output.strip()[:200],
                }
            ),
            "coverage": round(coverage, 3),
            "gaps": gaps,
            "tokens": {"input": usage.input_tokens or 0, "output": usage.output_tokens or 0},
        }
    )
