"""What the CodeReAct loop records: each iteration in full, the repairs and whether they
helped, and the result it settled on."""

from __future__ import annotations

from pydantic import BaseModel, Field

from toolfoundry.builder.errors import FailureKind, Phase
from toolfoundry.builder.models import (
    StageTiming,
)
from toolfoundry.builder.strategies.base import BuildAttempt, Iteration
from toolfoundry.builder.strategies.codereact.abstraction import (
    AbstractionReport,
)
from toolfoundry.builder.strategies.codereact.requirements import (
    Specification,
)
from toolfoundry.builder.strategies.codereact.web.agent import WebFindings


class CodeReActIteration(Iteration):
    """An iteration with its full record: the files, the exact output and the repair applied."""

    code: dict[str, str] = Field(default_factory=dict)
    output: str = ""
    repair: str | None = None
    """The healing strategy (or `parameterise`) this iteration's prompt asked for."""
    repair_helped: bool | None = None
    answers: int = 0
    """Model answers it took, format retries included."""
    phases: list[StageTiming] = Field(default_factory=list)


class HealingOutcome(BaseModel):
    strategy: str
    error_class: str
    helped: bool


class LoopMetrics(BaseModel):
    success: bool
    first_try: bool
    """Passed at iteration 1 (before any repair)."""
    iterations: int
    duration_s: float
    phase_seconds: dict[str, float] = Field(default_factory=dict)
    healing: list[HealingOutcome] = Field(default_factory=list)
    """The repairs this build applied and whether each helped."""
    strategy_rates: dict[str, float] = Field(default_factory=dict)
    """Recorded success rate of every strategy/error class so far (all builds)."""


class LoopResult(BaseModel):
    """What the loop settled on, and how it got there."""

    success: bool
    specification: Specification
    web: WebFindings | None = None
    attempt: BuildAttempt | None = None
    abstraction: AbstractionReport | None = None
    iterations: list[CodeReActIteration] = Field(default_factory=list)
    metrics: LoopMetrics
    error: str | None = None
    error_class: FailureKind | None = None
    phase: Phase | None = None
