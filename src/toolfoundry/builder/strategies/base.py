"""How a build turns a requirement into server code: pluggable strategies over shared stages.

A strategy gets a `BuildWorkspace` — the build's directories, the sandbox and the stages
(environment, security scan, validation) with phase reporting — and returns its final
`BuildAttempt` or raises `BuildError`. A one-shot strategy (the package wrapper) only creates the
environment and the files, and the service scans and validates them; a looping strategy (the LLM
CodeReAct loop) scans and validates each iteration itself and returns the attempt it settled on,
with every iteration recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

from toolfoundry.builder.models import (
    BuildRequirement,
    GeneratedFiles,
    ProgressCallback,
    SecurityReport,
    ValidationReport,
)
from toolfoundry.builder.stages.environment import EnvironmentResult

if TYPE_CHECKING:
    from toolfoundry.builder.stages.workspace import BuildWorkspace


class Iteration(BaseModel):
    """One generate → check round of a strategy, kept in the build record."""

    # A strategy's own fields (the LLM loop's code, output, repair) survive storage and reload.
    model_config = ConfigDict(extra="allow")

    number: int
    strategy: str
    decision: str
    """What the strategy did and why (for the package wrapper: which functions it wrapped)."""
    files: list[str] = Field(default_factory=list)
    outcome: str = "generated"
    error: str | None = None
    error_class: str | None = None
    duration_s: float = 0.0


class BuildAttempt(BaseModel):
    """What a strategy hands back: the server's files and the environment they run in."""

    files: GeneratedFiles
    environment: EnvironmentResult
    security: SecurityReport | None = None
    """None: the service scans the files."""
    validation: ValidationReport | None = None
    """None: the service validates the server in the sandbox."""
    # SerializeAsAny: a strategy's richer iteration records (code, output, repair) are kept.
    iterations: list[SerializeAsAny[Iteration]] = Field(default_factory=list)


@runtime_checkable
class BuildStrategy(Protocol):
    """Turns a requirement into a server inside a workspace."""

    name: str

    async def build(
        self,
        requirement: BuildRequirement,
        workspace: BuildWorkspace,
        on_progress: ProgressCallback,
    ) -> BuildAttempt: ...
