"""One build's workspace: its directories and the stages (environment, security scan, validation)
with phase reporting and timings, handed to a strategy."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from toolfoundry.builder.errors import Phase
from toolfoundry.builder.models import (
    BuildRequirement,
    GeneratedFiles,
    ProgressCallback,
    SecurityReport,
    StageTiming,
    ValidationReport,
)
from toolfoundry.builder.stages.environment import BuildEnvironment, EnvironmentResult
from toolfoundry.builder.stages.sandbox import ResourceLimits, Sandbox
from toolfoundry.builder.stages.scanner import scan
from toolfoundry.builder.stages.validator import ValidationTimeouts, validate
from toolfoundry.core.tracing import tracer

PhaseCallback = Callable[[Phase], None]


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
    def phase(self, name: Phase, detail: str | None = None) -> Iterator[None]:
        """Report entering `name` and record how long it took."""
        self._on_phase(name)
        started = time.monotonic()
        attributes = {"toolfoundry.build.phase": str(name)}
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
        with self.phase(Phase.ENVIRONMENT):
            return await self.environment.create(
                self.venv_dir, requirement or self.requirement, on_progress=self.log
            )

    def scan(self, files: GeneratedFiles) -> SecurityReport:
        with self.phase(Phase.SECURITY_SCAN):
            # The requirement's network grant decides whether HTTP clients are findings.
            report = scan(files.files, network=self.requirement.network)
            self.log(f"security scan: {report.summary()}")
            return report

    async def validate(self, files: GeneratedFiles, env: EnvironmentResult) -> ValidationReport:
        """Write the files to `server_dir` and validate the server there, in the sandbox."""
        with self.phase(Phase.VALIDATING):
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
