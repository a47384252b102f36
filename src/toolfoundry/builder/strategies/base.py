"""How a build turns a requirement into server code: pluggable strategies over shared stages.

A strategy gets a `BuildWorkspace` — the build's directories, the sandbox and the stages
(environment, security scan, validation) with phase reporting — and returns its final
`BuildAttempt`. A one-shot strategy (the package wrapper) only creates the environment and the
files, and the service scans and validates them; a looping strategy (the LLM CodeReAct loop of the
next issue) scans and validates each iteration itself and returns the attempt it settled on, with
every iteration recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

from toolfoundry.builder.environment import BuildEnvironment, EnvironmentResult
from toolfoundry.builder.models import (
    BuildRequirement,
    GeneratedFiles,
    ProgressCallback,
    SecurityReport,
    StageTiming,
    ValidationReport,
)
from toolfoundry.builder.package_wrapper import Embed, PackageWrapError, PackageWrapper
from toolfoundry.builder.sandbox import ResourceLimits, Sandbox
from toolfoundry.builder.scanner import scan
from toolfoundry.builder.validator import ValidationTimeouts, validate
from toolfoundry.core.tracing import tracer


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


class StrategyError(RuntimeError):
    """The strategy could not produce a server; `phase` and `error_class` say where and why."""

    def __init__(
        self,
        message: str,
        *,
        phase: str,
        error_class: str,
        details: dict[str, Any] | None = None,
        iterations: list[Iteration] | None = None,
    ) -> None:
        super().__init__(message)
        self.phase = phase
        self.error_class = error_class
        self.details = details or {}
        self.iterations = iterations or []


PhaseCallback = Callable[[str], None]


class BuildWorkspace:
    """One build's directories and stages. Stage methods report their phase and timing."""

    def __init__(
        self,
        root: Path,
        requirement: BuildRequirement,
        *,
        sandbox: Sandbox,
        environment: BuildEnvironment,
        on_phase: PhaseCallback,
        on_progress: ProgressCallback,
        limits: ResourceLimits | None = None,
        validation_timeouts: ValidationTimeouts | None = None,
        build_id: str | None = None,
    ) -> None:
        self.root = root
        self.build_id = build_id
        self.requirement = requirement
        self.sandbox = sandbox
        self.environment = environment
        self.limits = limits
        self.validation_timeouts = validation_timeouts
        self.timings: list[StageTiming] = []
        self._on_phase = on_phase
        self.log: ProgressCallback = on_progress

    @property
    def venv_dir(self) -> Path:
        return self.root / "venv"

    @property
    def server_dir(self) -> Path:
        return self.root / "server"

    @property
    def work_dir(self) -> Path:
        return self.root / "work"

    @contextmanager
    def phase(self, name: str, detail: str | None = None) -> Iterator[None]:
        """Report entering `name` and record how long it took."""
        self._on_phase(name)
        started = time.monotonic()
        attributes = {"toolfoundry.build.phase": name}
        if self.build_id:
            attributes["toolfoundry.build.id"] = self.build_id
        try:
            # A span per phase; the exception (if any) is recorded on it by the API.
            with tracer.start_as_current_span(f"build.phase {name}", attributes=attributes):
                yield
        finally:
            self.timings.append(
                StageTiming(stage=name, seconds=round(time.monotonic() - started, 3), detail=detail)
            )

    async def create_environment(
        self, requirement: BuildRequirement | None = None
    ) -> EnvironmentResult:
        """A fresh venv with fastmcp, pytest and the requirement's dependencies."""
        with self.phase("environment"):
            return await self.environment.create(
                self.venv_dir, requirement or self.requirement, on_progress=self.log
            )

    def scan(self, files: GeneratedFiles) -> SecurityReport:
        with self.phase("security_scan"):
            # The requirement's network grant decides whether HTTP clients are findings.
            report = scan(files.files, network=self.requirement.network)
            self.log(f"security scan: {report.summary()}")
            return report

    async def validate(self, files: GeneratedFiles, env: EnvironmentResult) -> ValidationReport:
        """Write the files to `server_dir` and validate the server there, in the sandbox."""
        with self.phase("validating"):
            files.write_to(self.server_dir)
            return await validate(
                self.server_dir,
                env,
                self.sandbox,
                self.requirement,
                work_dir=self.work_dir,
                limits=self.limits,
                timeouts=self.validation_timeouts,
                on_progress=self.log,
            )


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


class PackageWrapperStrategy:
    """No model: wrap functions of the requirement's PyPI dependencies (see `package_wrapper`)."""

    name = "package-wrapper"

    def __init__(self, *, embed: Embed | None = None) -> None:
        self.wrapper = PackageWrapper(embed=embed)

    async def build(
        self,
        requirement: BuildRequirement,
        workspace: BuildWorkspace,
        on_progress: ProgressCallback,
    ) -> BuildAttempt:
        if not requirement.dependencies:
            raise StrategyError(
                "the package-wrapper strategy needs a dependency naming the PyPI package to wrap "
                "(e.g. dependencies: ['markdown']); configure TOOLFOUNDRY_LLM_MODEL to generate "
                "code instead",
                phase="generating",
                error_class="no_dependency",
            )
        env = await workspace.create_environment()
        started = time.monotonic()
        with workspace.phase("generating"):
            try:
                wrapped = await self.wrapper.build(
                    requirement, env, workspace.sandbox, workspace.root, on_progress=on_progress
                )
            except PackageWrapError as exc:
                raise StrategyError(
                    f"{exc}. Check the examples, or name a package whose functions do this",
                    phase="generating",
                    error_class="no_matching_function",
                    iterations=[
                        Iteration(
                            number=1,
                            strategy=self.name,
                            decision="introspect, rank and probe the package's functions",
                            outcome="failed",
                            error=str(exc),
                            error_class="no_matching_function",
                            duration_s=round(time.monotonic() - started, 3),
                        )
                    ],
                ) from exc
        iteration = Iteration(
            number=1,
            strategy=self.name,
            decision="wrapped "
            + ", ".join(f"{t.candidate.path} as {t.name}" for t in wrapped.tools),
            files=sorted(wrapped.files.files),
            duration_s=round(time.monotonic() - started, 3),
        )
        return BuildAttempt(files=wrapped.files, environment=env, iterations=[iteration])
