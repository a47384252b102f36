"""Running one build: the strategy makes the files, the service's stages scan and validate them
in the sandbox, a validated server moves into the repository and is registered; the outcome
(completed, failed, cancelled or requeued by a shutdown) is written to the builds table."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolfoundry.builder.errors import BuildError, FailureKind, Phase
from toolfoundry.builder.models import SecurityReport, StageTiming, ValidationReport
from toolfoundry.builder.service.assets import place
from toolfoundry.builder.service.events import BuildStatus
from toolfoundry.builder.service.progress import LiveBuild, Progress
from toolfoundry.builder.service.queue import (
    BuildMetrics,
    BuildQueue,
    BuildRecord,
    BuildResult,
    CancelReason,
)
from toolfoundry.builder.service.registration import (
    launch_config,
    register,
    relocate,
    server_name_for,
)
from toolfoundry.builder.service.repository import (
    FailureAnalysis,
    McpAsset,
    McpRepository,
    dependency_names,
)
from toolfoundry.builder.service.status import TypicalDuration
from toolfoundry.builder.stages.environment import BuildEnvironment, EnvironmentBuildError
from toolfoundry.builder.stages.sandbox import ResourceLimits, Sandbox
from toolfoundry.builder.stages.validator import ValidationTimeouts
from toolfoundry.builder.stages.workspace import BuildWorkspace
from toolfoundry.builder.strategies.base import BuildAttempt, BuildStrategy
from toolfoundry.builder.strategies.selection import Strategies
from toolfoundry.core import metrics
from toolfoundry.core.errors import ToolfoundryError
from toolfoundry.core.models import utcnow
from toolfoundry.core.tracing import tracer

if TYPE_CHECKING:
    from toolfoundry.builder.ports import ServerRegistrar

log = logging.getLogger(__name__)


@dataclass
class RunnerSetup:
    """Where builds run and with which limits."""

    data_dir: Path
    environment: BuildEnvironment
    validation_limits: ResourceLimits
    server_limits: ResourceLimits
    validation_timeouts: ValidationTimeouts | None


class BuildRunner:
    """Runs claimed builds to their outcome (the worker pool's job function is `run`)."""

    def __init__(
        self,
        servers: ServerRegistrar,
        *,
        setup: RunnerSetup,
        queue: BuildQueue,
        repository: McpRepository,
        progress: Progress,
        strategies: Strategies,
        sandbox: Callable[[], Sandbox],
        cancel_reason: Callable[[str], CancelReason],
        durations: TypicalDuration,
    ) -> None:
        self.servers = servers
        self.setup = setup
        self.queue = queue
        self.repository = repository
        self.progress = progress
        self.strategies = strategies
        self.sandbox = sandbox
        self.cancel_reason = cancel_reason
        self.durations = durations
        self._rates: dict[str, list[int]] = {"generation": [0, 0], "environment": [0, 0]}
        self._rates["validation"] = [0, 0]

    async def run(self, record: BuildRecord) -> None:
        live = self.progress.begin(record)
        metrics.ACTIVE_BUILDS.inc()
        started = time.monotonic()
        root = self.setup.data_dir / "builds" / record.id
        queued_for = ((record.started_at or utcnow()) - record.created_at).total_seconds()
        build_metrics = BuildMetrics(queue_wait_s=round(queued_for, 3))
        workspace: BuildWorkspace | None = None
        try:
            try:
                async with asyncio.timeout(record.timeout) as deadline:
                    strategy = self._strategy_for(record, live, build_metrics)
                    workspace = BuildWorkspace(
                        root,
                        record.requirement,
                        sandbox=self.sandbox(),
                        environment=self.setup.environment,
                        on_phase=lambda phase: self.progress.phase(live, phase),
                        on_progress=lambda line: self.progress.log(live, line),
                        limits=self.setup.validation_limits,
                        validation_timeouts=self.setup.validation_timeouts,
                        build_id=record.id,
                    )
                    # One trace per build: the phase spans are its children.
                    with tracer.start_as_current_span(
                        "toolfoundry.build", attributes={"toolfoundry.build.id": record.id}
                    ):
                        outcome = await self._execute(record, strategy, workspace, build_metrics)
            except TimeoutError:
                if not deadline.expired():
                    raise
                raise BuildError(
                    f"the build exceeded its timeout of {record.timeout:g}s during {live.phase}; "
                    "everything it started was stopped. Allow more time (timeout, at most 3600 s)"
                    " or narrow the requirement",
                    phase=live.phase,
                    kind=FailureKind.TIMEOUT,
                ) from None
        except BuildError as failure:
            await self._fail(record, live, failure, build_metrics, _timings(workspace), started)
        except asyncio.CancelledError:
            if self.cancel_reason(record.id) == "shutdown":
                await self._requeue(record, live)
                raise
            await self._cancelled(record, live)
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
        except Exception as exc:
            log.exception("build %s failed unexpectedly", record.id)
            failure = BuildError(
                f"{type(exc).__name__}: {exc} — a bug in toolfoundry; the server log has the "
                "traceback",
                phase=live.phase,
                kind=FailureKind.INTERNAL,
            )
            await self._fail(record, live, failure, build_metrics, _timings(workspace), started)
        else:
            await self._complete(record, live, outcome, build_metrics, _timings(workspace), started)
        finally:
            metrics.ACTIVE_BUILDS.dec()
            self.progress.end(record.id)
            await asyncio.to_thread(shutil.rmtree, root, True)

    def _strategy_for(
        self, record: BuildRecord, live: LiveBuild, build_metrics: BuildMetrics
    ) -> BuildStrategy:
        if record.strategy is not None and record.strategy not in self.strategies:
            raise BuildError(
                f"build strategy {record.strategy!r} is not available in this worker; "
                f"it has {self.strategies.names()}",
                phase=Phase.STARTING,
                kind=FailureKind.UNKNOWN_STRATEGY,
            )
        strategy, mode = self.strategies.choose(record.strategy)
        build_metrics.strategy, build_metrics.mode = strategy.name, mode
        self.progress.log(live, f"build started (attempt {record.attempts}); strategy: {mode}")
        return strategy

    async def _execute(
        self,
        record: BuildRecord,
        strategy: BuildStrategy,
        workspace: BuildWorkspace,
        build_metrics: BuildMetrics,
    ) -> tuple[BuildAttempt, McpAsset]:
        try:
            attempt = await strategy.build(record.requirement, workspace, workspace.log)
        except EnvironmentBuildError as exc:
            self._rate("environment", False)
            raise BuildError(
                f"{exc}. Check the dependency names and versions on PyPI",
                phase=Phase.ENVIRONMENT,
                kind=exc.kind,
                details={"output": exc.stderr[-4000:]},
            ) from exc
        except BuildError:  # the strategy's own failure, with its iterations
            if any(t.stage == Phase.ENVIRONMENT for t in workspace.timings):
                self._rate("environment", True)
            self._rate("generation", False)
            raise
        self._rate("environment", True)
        self._rate("generation", True)
        build_metrics.packages = attempt.environment.packages
        security = attempt.security or workspace.scan(attempt.files)
        if not security.passed:
            high = [f for f in security.findings if f.severity == "high"]
            raise BuildError(
                "the security scan found high-severity issues, so nothing was run: "
                + "; ".join(f"{f.file}:{f.line} {f.rule}: {f.message}" for f in high[:5]),
                phase=Phase.SECURITY_SCAN,
                kind=FailureKind.SECURITY_FINDING,
                security=security,
                iterations=attempt.iterations,
            )
        validation = attempt.validation or await workspace.validate(
            attempt.files, attempt.environment
        )
        self._rate("validation", validation.passed)
        if not validation.passed:
            kind, summary = _validation_failure(validation)
            raise BuildError(
                f"validation in the sandbox failed: {summary}",
                phase=Phase.VALIDATING,
                kind=kind,
                security=security,
                validation=validation,
                iterations=attempt.iterations,
            )
        with workspace.phase(Phase.REGISTERING):
            asset = await self._store(
                record, strategy.name, attempt, workspace, security, validation
            )
        return attempt.model_copy(update={"security": security, "validation": validation}), asset

    async def _store(
        self,
        record: BuildRecord,
        strategy: str,
        attempt: BuildAttempt,
        workspace: BuildWorkspace,
        security: SecurityReport,
        validation: ValidationReport,
    ) -> McpAsset:
        """Move the build into the repository, register its server and record the asset."""
        requirement, sandbox = record.requirement, workspace.sandbox
        asset_id = f"mcp_{uuid.uuid4().hex[:12]}"
        asset_dir = self.repository.asset_dir(asset_id)
        # Reserve the asset id in the build's row first: a start-up sweep keeps the directory
        # only while this build runs (see assets).
        if not await self.queue.transition(record.id, {"building", "testing"}, asset_id=asset_id):
            raise BuildError(
                "the build was cancelled before its server was registered",
                phase=Phase.REGISTERING,
                kind=FailureKind.CANCELLED,
                security=security,
                validation=validation,
                iterations=attempt.iterations,
            )
        await asyncio.to_thread(place, workspace.root, asset_dir)
        env = relocate(attempt.environment, workspace.root, asset_dir)
        name = server_name_for(requirement.description, asset_id)
        config = launch_config(
            name,
            env,
            sandbox,
            asset_dir,
            network=requirement.network,
            limits=self.setup.server_limits,
        )
        workspace.log(f"registering MCP server {name}: {config.command} … {config.args[-1]}")
        try:
            registration = await register(
                self.servers,
                self.repository.sessions,
                config,
                sandbox=sandbox.name,
                network=requirement.network,
            )
        except ToolfoundryError as exc:
            await asyncio.to_thread(shutil.rmtree, asset_dir, True)
            raise BuildError(
                f"the validated server could not be registered: {exc.detail}",
                phase=Phase.REGISTERING,
                kind=FailureKind.REGISTRATION_FAILED,
                security=security,
                validation=validation,
                iterations=attempt.iterations,
            ) from exc
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, asset_dir, True)
            raise
        passed = [e.passed for e in validation.examples]
        asset = McpAsset(
            id=asset_id,
            name=name,
            description=requirement.description,
            requirement=requirement,
            requirement_hash=record.requirement_hash,
            dependencies=dependency_names(requirement),
            network=requirement.network,
            strategy=strategy,
            path=str(asset_dir),
            files=sorted(attempt.files.files),
            server_name=registration.server_name,
            toolkit=registration.toolkit,
            tools=registration.tools,
            launch=registration.launch,
            validation=validation,
            security=security,
            metrics={
                "phases": [t.model_dump() for t in workspace.timings],
                "packages": env.packages,
                "iterations": len(attempt.iterations),
            },
            effectiveness=sum(passed) / len(passed) if passed else 1.0,
            build_id=record.id,
            created_at=utcnow(),
        )
        try:
            await self.repository.store(asset)
        except BaseException:
            with contextlib.suppress(ToolfoundryError):
                await self.servers.remove_mcp_server(registration.server_name)
            await asyncio.to_thread(shutil.rmtree, asset_dir, True)
            raise
        workspace.log(f"registered {', '.join(registration.tools)} (asset {asset_id})")
        return asset

    # --- outcomes ---------------------------------------------------------------------------

    async def _complete(
        self,
        record: BuildRecord,
        live: LiveBuild,
        outcome: tuple[BuildAttempt, McpAsset],
        build_metrics: BuildMetrics,
        timings: list[StageTiming],
        started: float,
    ) -> None:
        attempt, asset = outcome
        duration = time.monotonic() - started
        build_metrics.phases = timings
        build_metrics.duration_s = round(duration, 3)
        result = BuildResult(
            build_id=record.id,
            success=True,
            mcp_asset=asset,
            build_metrics=build_metrics,
            test_results=attempt.validation,
            security=attempt.security,
            iterations=attempt.iterations,
        )
        self.progress.log(live, f"completed in {duration:.1f}s: {', '.join(asset.tools)}")
        metrics.BUILD_DURATION.labels("true", "").observe(duration)
        await self._finish(record, live, "completed", result=result, asset_id=asset.id)
        await self.durations.refresh()

    async def _fail(
        self,
        record: BuildRecord,
        live: LiveBuild,
        failure: BuildError,
        build_metrics: BuildMetrics,
        timings: list[StageTiming],
        started: float,
    ) -> None:
        duration = time.monotonic() - started
        build_metrics.phases = timings
        build_metrics.duration_s = round(duration, 3)
        result = BuildResult(
            build_id=record.id,
            success=False,
            error_message=failure.message,
            failure_type=failure.kind.value,
            build_metrics=build_metrics,
            test_results=failure.validation,
            security=failure.security,
            iterations=failure.iterations,
        )
        self.progress.log(
            live, f"failed during {failure.phase} ({failure.error_class}): {failure.message}"
        )
        metrics.BUILD_DURATION.labels("false", failure.error_class).observe(duration)
        details = dict(failure.details)
        if failure.validation is not None:
            details["validation"] = failure.validation.model_dump(mode="json")
        if failure.security is not None:
            details["security"] = failure.security.model_dump(mode="json")
        await self.repository.record_failure(
            FailureAnalysis(
                build_id=record.id,
                requirement_hash=record.requirement_hash,
                strategy=build_metrics.strategy,
                phase=failure.phase.value,
                error_class=failure.kind.value,
                message=failure.message,
                details=details,
                created_at=utcnow(),
            )
        )
        # Stored before the final event, so a waiter finds it.
        await self._finish(
            record,
            live,
            "failed",
            result=result,
            error_message=failure.message,
            failure_type=failure.kind.value,
        )

    async def _cancelled(self, record: BuildRecord, live: LiveBuild) -> None:
        self.progress.log(live, f"cancelled during {live.phase}; its processes were stopped")
        live.dirty = False
        live.status = "cancelled"
        # The cancel already made the row final; only its log is added here.
        await self.queue.transition(
            record.id, {"cancelled"}, logs=list(live.logs), current_phase="cancelled", worker=None
        )
        self.progress.publish_record(await self.queue.get(record.id))

    async def _finish(
        self, record: BuildRecord, live: LiveBuild, status: BuildStatus, **values: Any
    ) -> None:
        if "result" in values:
            values["result"] = values["result"].model_dump(mode="json")
        if status != "completed":
            values.setdefault("asset_id", None)  # a reserved asset id is not an asset
        live.dirty = False
        finished = await self.queue.transition(
            record.id,
            {"building", "testing"},
            status=status,
            progress=1.0 if status == "completed" else live.progress,
            current_phase=status if status != "failed" else live.phase,
            logs=list(live.logs),
            finished_at=utcnow(),
            worker=None,
            **values,
        )
        if not finished:  # cancelled meanwhile: the cancel wins, whatever this build reached
            log.info(
                "build %s reached %s after its cancellation; it stays cancelled", record.id, status
            )
            return
        # Only now: a reader that sees the final status must find the final record stored.
        live.status = status
        metrics.BUILD_REQUESTS.labels(record.priority, status).inc()
        self.progress.publish_record(await self.queue.get(record.id))

    async def _requeue(self, record: BuildRecord, live: LiveBuild) -> None:
        live.dirty = False
        live.logs.append(f"interrupted during {live.phase} by a shutdown; queued again")
        await self.queue.transition(
            record.id,
            {"building", "testing"},
            status="queued",
            progress=0.0,
            current_phase="queued",
            logs=list(live.logs),
            worker=None,
            asset_id=None,
        )

    def _rate(self, stage: str, ok: bool) -> None:
        counts = self._rates[stage]
        counts[0] += int(ok)
        counts[1] += 1
        gauge = {
            "generation": metrics.CODE_GENERATION_SUCCESS_RATE,
            "environment": metrics.ENVIRONMENT_BUILD_SUCCESS_RATE,
            "validation": metrics.TEST_VALIDATION_SUCCESS_RATE,
        }[stage]
        gauge.set(counts[0] / counts[1])


def _validation_failure(report: ValidationReport) -> tuple[FailureKind, str]:
    """The failure class a healer acts on, and a one-line summary."""
    if not report.initialized:
        return FailureKind.RUNTIME_ERROR, "; ".join(report.errors)[:1500]
    if any("timed out" in e or "timeout" in e for e in report.errors):
        return FailureKind.TIMEOUT, "; ".join(report.errors)[:1500]
    if report.errors:
        return FailureKind.RUNTIME_ERROR, "; ".join(report.errors)[:1500]
    if report.schema_problems:
        return FailureKind.INVALID_SCHEMA, "; ".join(
            f"{p.tool}: {p.message}" for p in report.schema_problems
        )
    failed = [e for e in report.examples if not e.passed]
    if failed:
        return FailureKind.EXAMPLE_MISMATCH, "; ".join(
            f"{e.input!r} → {e.error or repr(e.actual)} (expected {e.expected!r})" for e in failed
        )[:1500]
    if report.tests is not None and not report.tests.passed:
        return FailureKind.TEST_FAILURE, report.tests.output_tail[-1500:]
    return FailureKind.VALIDATION_FAILED, "no tools listed"


def _timings(workspace: BuildWorkspace | None) -> list[StageTiming]:
    return workspace.timings if workspace is not None else []
