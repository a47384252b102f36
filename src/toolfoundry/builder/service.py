"""The build service: a request becomes a durable build record, a worker runs the stages with
progress events, and a validated server is stored in the repository and registered in the catalog.

Before anything is queued, the repository is asked for an asset that already serves the request
(same requirement hash within 24 h, or a similar one whose examples still pass): reusing one takes
about a second instead of a build.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import statistics
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from toolfoundry.builder.asset_files import place, stale_paths
from toolfoundry.builder.environment import BuildEnvironment, EnvironmentBuildError
from toolfoundry.builder.events import TERMINAL, BuildEvent, BuildEvents, BuildStatus
from toolfoundry.builder.models import (
    BuildRequirement,
    SecurityReport,
    StageTiming,
    ValidationReport,
)
from toolfoundry.builder.queue import (
    MAX_LOG_LINES,
    PRIORITY_RANK,
    BuildMetrics,
    BuildQueue,
    BuildRecord,
    BuildRequest,
    BuildResult,
    Priority,
    WorkerPool,
)
from toolfoundry.builder.registration import (
    launch_config,
    register,
    relocate,
    server_name_for,
)
from toolfoundry.builder.repository import (
    FailureAnalysis,
    McpAsset,
    McpRepository,
    dependency_names,
    requirement_hash,
)
from toolfoundry.builder.reuse import ensure_registered, failing_examples
from toolfoundry.builder.sandbox import (
    BubblewrapSandbox,
    ResourceLimits,
    Sandbox,
    UnsandboxedRunner,
    sandbox_fix,
)
from toolfoundry.builder.sandbox import sandbox_available as _sandbox_available
from toolfoundry.builder.strategies import (
    BuildAttempt,
    BuildStrategy,
    BuildWorkspace,
    Iteration,
    PackageWrapperStrategy,
    StrategyError,
)
from toolfoundry.builder.validator import ValidationTimeouts
from toolfoundry.core import metrics
from toolfoundry.core.errors import (
    ConflictError,
    InvalidInputError,
    ToolfoundryError,
)
from toolfoundry.core.models import utcnow
from toolfoundry.core.tracing import tracer
from toolfoundry.store.tables import BuildRow

if TYPE_CHECKING:
    from toolfoundry.library import ToolLibrary

log = logging.getLogger(__name__)

# Where each phase starts on the 0–1 progress scale; log lines creep towards the next one.
PHASE_PROGRESS: dict[str, float] = {
    "starting": 0.02,
    "environment": 0.05,
    "generating": 0.45,
    "security_scan": 0.65,
    "validating": 0.70,
    "registering": 0.92,
}
_PHASE_END = dict(zip(PHASE_PROGRESS, [*list(PHASE_PROGRESS.values())[1:], 0.99], strict=True))
_STATUS_LOGS = 20
_DEFAULT_DURATION = 60.0
_AUTO = object()


class BuildStatusView(BaseModel):
    """`GET /api/v1/build/{id}/status`."""

    build_id: str
    status: BuildStatus
    progress: float
    current_phase: str
    logs: list[str]
    estimated_remaining: float | None
    """Seconds, from the durations of recent builds; 0 once finished."""
    strategy: str | None
    attempts: int
    reused: bool
    error_message: str | None


class BuildFailure(Exception):
    """A build stage failed; carries what the result and the failure analysis record."""

    def __init__(
        self,
        message: str,
        *,
        phase: str,
        error_class: str,
        details: dict[str, Any] | None = None,
        security: SecurityReport | None = None,
        validation: ValidationReport | None = None,
        iterations: list[Iteration] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.phase = phase
        self.error_class = error_class
        self.details = details or {}
        self.security = security
        self.validation = validation
        self.iterations = iterations or []


@dataclass
class _Live:
    """A build running in this process: the state readers see before it reaches the database."""

    record: BuildRecord
    status: BuildStatus = "building"
    phase: str = "starting"
    progress: float = PHASE_PROGRESS["starting"]
    logs: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_LOG_LINES))
    started: float = field(default_factory=time.monotonic)
    dirty: bool = True


class BuildService:
    """Submit, run, watch and cancel builds; reuse what the repository already has."""

    def __init__(
        self,
        library: ToolLibrary,
        *,
        sandbox: Sandbox | None = None,
        environment: BuildEnvironment | None = None,
        embedder: Any = _AUTO,
        concurrency: int | None = None,
        validation_timeouts: ValidationTimeouts | None = None,
        allow_unsandboxed: bool = False,
    ) -> None:
        """`embedder`: for similarity reuse (default: discovery's `get_embedder()`, token overlap
        when that cannot load; None forces token overlap). `allow_unsandboxed` lets builds run
        without bubblewrap where it is unusable — logged on every launch."""
        self.library = library
        settings = library.settings
        self.data_dir = Path(settings.data_dir)
        self.builds_dir = self.data_dir / "builds"
        self.queue = BuildQueue(library.catalog.sessions)
        self.events = BuildEvents()
        self.repository = McpRepository(
            library.catalog.sessions,
            self.data_dir / "mcp_assets",
            embedder=_default_embedder() if embedder is _AUTO else embedder,
        )
        self.pool = WorkerPool(
            self.queue, self._run, concurrency=concurrency or settings.max_concurrent_builds
        )
        self.environment = environment or BuildEnvironment(
            cache_dir=settings.uv_cache_dir or self.data_dir / "uv-cache"
        )
        first, _, last = settings.sandbox_uids.partition("-")
        self._sandbox_uids = range(int(first), int(last) + 1)
        disk = settings.sandbox_disk_mb * 1024**2
        self.validation_limits = ResourceLimits(disk_bytes=disk)
        self.server_limits = ResourceLimits(
            cpu_seconds=settings.sandbox_server_cpu_seconds,
            wall_seconds=settings.sandbox_server_wall_seconds,
            disk_bytes=disk,
        )
        self.validation_timeouts = validation_timeouts
        self.allow_unsandboxed = allow_unsandboxed
        self._sandbox = sandbox
        self.strategies: dict[str, BuildStrategy] = {}
        self.register_strategy(PackageWrapperStrategy(embed=self._embed_texts))
        if library.llm is not None:
            from toolfoundry.builder.codereact import CodeReActStrategy

            self.register_strategy(CodeReActStrategy.from_settings(settings, library.llm))
        self._live: dict[str, _Live] = {}
        self._start_lock = asyncio.Lock()
        self._flusher: asyncio.Task[None] | None = None
        self._rates: dict[str, list[int]] = {"generation": [0, 0], "environment": [0, 0]}
        self._rates["validation"] = [0, 0]
        self._typical_duration = _DEFAULT_DURATION

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self.pool.started

    async def start(self) -> BuildService:
        """Recover interrupted builds and start this process's workers (idempotent, and safe
        to call concurrently: the API starts it in the background while requests arrive)."""
        async with self._start_lock:
            if not self.pool.started:
                await self._start()
        return self

    async def _start(self) -> None:
        for record in await self.pool.start(before_workers=self._sweep_at_start):
            self._publish_record(record)
            if record.status == "failed":
                metrics.BUILD_REQUESTS.labels(record.priority, "failed").inc()
        self._flusher = asyncio.create_task(self._flush_loop(), name="build-progress-flush")
        await self._refresh_typical_duration()

    async def _sweep_at_start(self) -> None:
        try:
            await self.sweep_orphan_assets()
        except Exception:
            log.exception("sweeping orphan asset directories failed")

    async def sweep_orphan_assets(self) -> list[Path]:
        """Remove what a killed build left: asset directories without a row (with any MCP
        server registered from them), staged copies, and work directories of builds no live
        worker runs. Runs after the builds of dead workers were recovered and before this
        process's workers start, so only other live workers' builds are kept."""
        running = {
            build.id: build.asset_id
            for status in ("building", "testing")
            for build in await self.queue.list(status, limit=10_000)  # type: ignore[arg-type]
        }
        stale = stale_paths(
            self.repository.assets_dir,
            self.builds_dir,
            asset_ids=[asset.id for asset in await self.repository.list()],
            running=running,
        )
        for path in stale:
            if path.parent == self.repository.assets_dir:
                for server in await self.library.list_mcp_servers():
                    if any(str(path) in arg for arg in server.config.args):
                        with contextlib.suppress(ToolfoundryError):
                            await self.library.remove_mcp_server(server.name)
            await asyncio.to_thread(shutil.rmtree, path, True)
            log.warning("removed %s: left by a build that is no longer running", path)
        return stale

    async def aclose(self) -> None:
        """Stop the workers; builds they were running go back to the queue."""
        await self.pool.aclose()
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None

    def register_strategy(self, strategy: BuildStrategy) -> None:
        """Make a strategy available by its name (the LLM strategy registers itself as `llm`)."""
        self.strategies[strategy.name] = strategy

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            status = _sandbox_available()
            if status.available:
                self._sandbox = BubblewrapSandbox(
                    bwrap=shutil.which("bwrap") or "bwrap",
                    # Seccomp program and uid leases: registered servers' launches use them.
                    state_dir=self.data_dir / "sandbox",
                    uids=self._sandbox_uids,
                )
            elif self.allow_unsandboxed:
                log.warning("bubblewrap unusable (%s): builds run UNSANDBOXED", status.reason)
                self._sandbox = UnsandboxedRunner()
            else:
                raise BuildFailure(
                    f"the bubblewrap sandbox is unusable here ({status.reason}); "
                    f"{sandbox_fix(status)}; or run builds unsandboxed only by an explicit "
                    "opt-in",
                    phase="starting",
                    error_class="sandbox_unavailable",
                )
        return self._sandbox

    def strategy_mode(self, requested: str | None = None) -> tuple[BuildStrategy, str]:
        """The strategy a build uses and how to describe that choice in logs and results."""
        if requested is not None:
            return self.strategies[requested], requested
        llm = getattr(self.library, "llm", None)
        if llm is not None and "llm" in self.strategies:
            return self.strategies["llm"], "llm"
        reason = "no LLM configured" if llm is None else "no LLM strategy registered"
        return self.strategies["package-wrapper"], f"package-wrapper ({reason})"

    # --- requests ---------------------------------------------------------------------------

    async def submit(
        self,
        request: BuildRequest | BuildRequirement | dict[str, Any],
        *,
        priority: Priority | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the build's timeout, stored with it
        context: str | None = None,
        strategy: str | None = None,
        reuse: bool = True,
    ) -> BuildRecord:
        """Queue a build, or answer at once with a completed one that reuses an asset.
        Keyword arguments override the request's own values."""
        request = _as_request(request, priority=priority, timeout=timeout, context=context)
        if strategy is not None and strategy not in self.strategies:
            raise InvalidInputError(
                f"unknown build strategy {strategy!r}",
                hint=f"Use one of {sorted(self.strategies)}.",
            )
        requirement = BuildRequirement.model_validate(request.requirement.model_dump())
        build_id = f"bld_{uuid.uuid4().hex[:16]}"
        if reuse:
            reused = await self._reuse(build_id, request, requirement)
            if reused is not None:
                return reused
        record = await self.queue.add(
            _new_row(
                build_id,
                request,
                requirement,
                status="queued",
                strategy=strategy,
                progress=0.0,
                current_phase="queued",
                logs=[f"queued with {request.priority} priority"],
                reused=False,
                created_at=utcnow(),
            )
        )
        if not self.pool.started:
            log.info("build %s queued; no worker runs in this process yet", build_id)
        self.pool.wake()
        self._publish_record(record)
        return record

    async def build(
        self,
        request: BuildRequest | BuildRequirement | dict[str, Any],
        *,
        budget: float | None = None,
        **options: Any,
    ) -> BuildRecord:
        """Submit and wait up to `budget` seconds (default: the build's timeout plus a margin);
        returns the record, finished or not. Starts this process's workers if needed."""
        await self.start()
        record = await self.submit(request, **options)
        return await self.wait(record.id, budget if budget is not None else record.timeout + 60)

    async def wait(self, build_id: str, timeout: float | None = None) -> BuildRecord:  # noqa: ASYNC109
        """The record once the build is finished, or as it stands after `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                async with contextlib.aclosing(self.watch(build_id)) as events:
                    async for event in events:
                        if event.final:
                            break
        return await self.queue.get(build_id)

    async def get(self, build_id: str) -> BuildRecord:
        return await self.queue.get(build_id)

    async def list(self, status: BuildStatus | None = None, limit: int = 50) -> list[BuildRecord]:
        return await self.queue.list(status, limit)

    async def status(self, build_id: str) -> BuildStatusView:
        live = self._live.get(build_id)
        if live is not None:
            elapsed = time.monotonic() - live.started
            return BuildStatusView(
                build_id=build_id,
                status=live.status,
                progress=round(live.progress, 3),
                current_phase=live.phase,
                logs=list(live.logs)[-_STATUS_LOGS:],
                estimated_remaining=round(max(1.0, self._typical_duration - elapsed), 1),
                strategy=live.record.strategy,
                attempts=live.record.attempts,
                reused=False,
                error_message=None,
            )
        record = await self.queue.get(build_id)
        if record.finished:
            remaining: float | None = 0.0
        elif record.status == "queued":
            remaining = self._typical_duration
        else:  # running in another process
            started = record.started_at or utcnow()
            remaining = max(1.0, self._typical_duration - (utcnow() - started).total_seconds())
        return BuildStatusView(
            build_id=record.id,
            status=record.status,
            progress=round(record.progress, 3),
            current_phase=record.current_phase,
            logs=record.logs[-_STATUS_LOGS:],
            estimated_remaining=round(remaining, 1) if remaining is not None else None,
            strategy=record.strategy,
            attempts=record.attempts,
            reused=record.reused,
            error_message=record.error_message,
        )

    async def result(self, build_id: str) -> BuildResult:
        record = await self.queue.get(build_id)
        if not record.finished or record.result is None:
            if record.status == "cancelled":
                return BuildResult(
                    build_id=build_id, success=False, error_message=record.error_message
                )
            raise ConflictError(
                f"build {build_id} is {record.status}, not finished",
                hint=f"Poll GET /api/v1/build/{build_id}/status or follow the WebSocket "
                f"/api/v1/build/{build_id}/ws until it completes.",
            )
        return record.result

    def estimated_completion_s(self) -> float:
        return self._typical_duration

    async def cancel(self, build_id: str) -> BuildRecord:
        """Cancel a queued build, or stop a running one and everything it started.

        Never waits for the build: the row turns `cancelled` in one conditional UPDATE (so a
        worker claiming it at that moment loses), then the task running it here is cancelled
        (its stages kill their process groups, its work dir is removed); a worker in another
        process sees the status at its next heartbeat."""
        record = await self.queue.get(build_id)
        message = (
            "cancelled before it started" if record.status == "queued" else "cancelled by request"
        )
        cancelled = await self.queue.cancel(build_id, message)
        if cancelled is None:
            record = await self.queue.get(build_id)
            raise ConflictError(
                f"build {build_id} is already {record.status}",
                hint="Only queued or running builds can be cancelled.",
            )
        metrics.BUILD_REQUESTS.labels(cancelled.priority, "cancelled").inc()
        if not self.pool.cancel(build_id, "user"):
            self._publish_record(cancelled)
        # else the task publishes the final event once its processes are stopped (`_cancelled`)
        return cancelled

    async def watch(self, build_id: str) -> AsyncIterator[BuildEvent]:
        """The build's events from now until its final one, starting with its current state.
        Builds running in another process are followed by polling the database."""
        async with self.events.subscribe(build_id) as queue:
            last = await self.status(build_id)
            yield _status_event(last)
            if last.status in TERMINAL:
                return
            while True:
                try:
                    async with asyncio.timeout(2.0):
                        event = await queue.get()
                except TimeoutError:
                    current = await self.status(build_id)
                    if current.status in TERMINAL or (
                        build_id not in self._live
                        and (current.progress, current.current_phase, current.status)
                        != (last.progress, last.current_phase, last.status)
                    ):
                        last = current
                        yield _status_event(current)
                        if current.status in TERMINAL:
                            return
                    continue
                yield event
                if event.final:
                    return

    # --- reuse ------------------------------------------------------------------------------

    async def _reuse(
        self, build_id: str, request: BuildRequest, requirement: BuildRequirement
    ) -> BuildRecord | None:
        started = time.monotonic()
        for match in await self.repository.find_similar(requirement):
            asset = match.asset
            try:
                tools = await ensure_registered(self.library, asset)
                if match.match == "similar" and requirement.examples:
                    failed = await failing_examples(self.library, tools, requirement)
                    if failed:
                        log.info("asset %s is similar but fails %s", asset.id, failed)
                        continue
            except ToolfoundryError as exc:
                log.warning("asset %s not reusable: %s", asset.id, exc.detail)
                continue
            await self.repository.record_use(asset.id)
            asset = await self.repository.get(asset.id)
            elapsed = round(time.monotonic() - started, 3)
            result = BuildResult(
                build_id=build_id,
                success=True,
                mcp_asset=asset,
                build_metrics=BuildMetrics(
                    strategy=asset.strategy,
                    mode="reuse",
                    reused=True,
                    match=match.match,
                    similarity=match.similarity,
                    duration_s=elapsed,
                    queue_wait_s=0.0,
                ),
                test_results=asset.validation,
                security=asset.security,
            )
            now = utcnow()
            message = (
                f"reused asset {asset.id} ({match.match} match, similarity {match.similarity:.2f})"
                f": server {asset.server_name}, tools {', '.join(asset.tools)}"
            )
            record = await self.queue.add(
                _new_row(
                    build_id,
                    request,
                    requirement,
                    status="completed",
                    strategy=asset.strategy,
                    progress=1.0,
                    current_phase="completed",
                    logs=[message],
                    result=result.model_dump(mode="json"),
                    asset_id=asset.id,
                    reused=True,
                    created_at=now,
                    started_at=now,
                    finished_at=now,
                )
            )
            metrics.BUILD_REQUESTS.labels(request.priority, "reused").inc()
            log.info("build %s: %s in %.2fs", build_id, message, elapsed)
            self._publish_record(record)
            return record
        return None

    # --- running a build --------------------------------------------------------------------

    async def _run(self, record: BuildRecord) -> None:
        live = _Live(record=record)
        live.logs.extend(record.logs)  # the queue's and earlier attempts' lines stay in the log
        self._live[record.id] = live
        metrics.ACTIVE_BUILDS.inc()
        started = time.monotonic()
        root = self.builds_dir / record.id
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
                        sandbox=self.sandbox,
                        environment=self.environment,
                        on_phase=lambda phase: self._phase(live, phase),
                        on_progress=lambda line: self._log(live, line),
                        limits=self.validation_limits,
                        validation_timeouts=self.validation_timeouts,
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
                raise BuildFailure(
                    f"the build exceeded its timeout of {record.timeout:g}s during {live.phase}; "
                    "everything it started was stopped. Allow more time (timeout, at most 3600 s)"
                    " or narrow the requirement",
                    phase=live.phase,
                    error_class="timeout",
                ) from None
        except BuildFailure as failure:
            await self._fail(record, live, failure, build_metrics, _timings(workspace), started)
        except asyncio.CancelledError:
            if self.pool.cancel_reason(record.id) == "shutdown":
                await self._requeue(record, live)
                raise
            await self._cancelled(record, live)
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
        except Exception as exc:
            log.exception("build %s failed unexpectedly", record.id)
            failure = BuildFailure(
                f"{type(exc).__name__}: {exc} — a bug in toolfoundry; the server log has the "
                "traceback",
                phase=live.phase,
                error_class="internal",
            )
            await self._fail(record, live, failure, build_metrics, _timings(workspace), started)
        else:
            await self._complete(record, live, outcome, build_metrics, _timings(workspace), started)
        finally:
            metrics.ACTIVE_BUILDS.dec()
            self._live.pop(record.id, None)
            await asyncio.to_thread(shutil.rmtree, root, True)

    def _strategy_for(
        self, record: BuildRecord, live: _Live, build_metrics: BuildMetrics
    ) -> BuildStrategy:
        if record.strategy is not None and record.strategy not in self.strategies:
            raise BuildFailure(
                f"build strategy {record.strategy!r} is not available in this worker; "
                f"it has {sorted(self.strategies)}",
                phase="starting",
                error_class="unknown_strategy",
            )
        strategy, mode = self.strategy_mode(record.strategy)
        build_metrics.strategy, build_metrics.mode = strategy.name, mode
        self._log(live, f"build started (attempt {record.attempts}); strategy: {mode}")
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
            raise BuildFailure(
                f"{exc}. Check the dependency names and versions on PyPI",
                phase="environment",
                error_class=exc.error_class,
                details={"output": exc.stderr[-4000:]},
            ) from exc
        except StrategyError as exc:
            if any(t.stage == "environment" for t in workspace.timings):
                self._rate("environment", True)
            self._rate("generation", False)
            raise BuildFailure(
                str(exc),
                phase=exc.phase,
                error_class=exc.error_class,
                details=exc.details,
                iterations=exc.iterations,
            ) from exc
        self._rate("environment", True)
        self._rate("generation", True)
        build_metrics.packages = attempt.environment.packages
        security = attempt.security or workspace.scan(attempt.files)
        if not security.passed:
            high = [f for f in security.findings if f.severity == "high"]
            raise BuildFailure(
                "the security scan found high-severity issues, so nothing was run: "
                + "; ".join(f"{f.file}:{f.line} {f.rule}: {f.message}" for f in high[:5]),
                phase="security_scan",
                error_class="security_finding",
                security=security,
                iterations=attempt.iterations,
            )
        validation = attempt.validation or await workspace.validate(
            attempt.files, attempt.environment
        )
        self._rate("validation", validation.passed)
        if not validation.passed:
            error_class, summary = _validation_failure(validation)
            raise BuildFailure(
                f"validation in the sandbox failed: {summary}",
                phase="validating",
                error_class=error_class,
                security=security,
                validation=validation,
                iterations=attempt.iterations,
            )
        with workspace.phase("registering"):
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
        # only while this build runs (see asset_files).
        if not await self.queue.transition(record.id, {"building", "testing"}, asset_id=asset_id):
            raise BuildFailure(
                "the build was cancelled before its server was registered",
                phase="registering",
                error_class="cancelled",
                security=security,
                validation=validation,
                iterations=attempt.iterations,
            )
        await asyncio.to_thread(place, workspace.root, asset_dir)
        env = relocate(attempt.environment, workspace.root, asset_dir)
        name = server_name_for(requirement.description, asset_id)
        config = launch_config(
            name, env, sandbox, asset_dir, network=requirement.network, limits=self.server_limits
        )
        workspace.log(f"registering MCP server {name}: {config.command} … {config.args[-1]}")
        try:
            registration = await register(
                self.library, config, sandbox=sandbox.name, network=requirement.network
            )
        except ToolfoundryError as exc:
            await asyncio.to_thread(shutil.rmtree, asset_dir, True)
            raise BuildFailure(
                f"the validated server could not be registered: {exc.detail}",
                phase="registering",
                error_class="registration_failed",
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
                await self.library.remove_mcp_server(registration.server_name)
            await asyncio.to_thread(shutil.rmtree, asset_dir, True)
            raise
        workspace.log(f"registered {', '.join(registration.tools)} (asset {asset_id})")
        return asset

    # --- outcomes ---------------------------------------------------------------------------

    async def _complete(
        self,
        record: BuildRecord,
        live: _Live,
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
        self._log(live, f"completed in {duration:.1f}s: {', '.join(asset.tools)}")
        metrics.BUILD_DURATION.labels("true", "").observe(duration)
        await self._finish(record, live, "completed", result=result, asset_id=asset.id)
        await self._refresh_typical_duration()

    async def _fail(
        self,
        record: BuildRecord,
        live: _Live,
        failure: BuildFailure,
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
            failure_type=failure.error_class,
            build_metrics=build_metrics,
            test_results=failure.validation,
            security=failure.security,
            iterations=failure.iterations,
        )
        self._log(live, f"failed during {failure.phase} ({failure.error_class}): {failure.message}")
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
                phase=failure.phase,
                error_class=failure.error_class,
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
            failure_type=failure.error_class,
        )

    async def _cancelled(self, record: BuildRecord, live: _Live) -> None:
        self._log(live, f"cancelled during {live.phase}; its processes were stopped")
        live.dirty = False
        live.status = "cancelled"
        # The cancel already made the row final; only its log is added here.
        await self.queue.transition(
            record.id, {"cancelled"}, logs=list(live.logs), current_phase="cancelled", worker=None
        )
        self._publish_record(await self.queue.get(record.id))

    async def _finish(
        self, record: BuildRecord, live: _Live, status: BuildStatus, **values: Any
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
        self._publish_record(await self.queue.get(record.id))

    async def _requeue(self, record: BuildRecord, live: _Live) -> None:
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

    # --- progress ---------------------------------------------------------------------------

    def _phase(self, live: _Live, phase: str) -> None:
        live.phase = phase
        live.status = "testing" if phase == "validating" else "building"
        live.progress = max(live.progress, PHASE_PROGRESS.get(phase, live.progress))
        live.logs.append(f"— {phase}")
        live.dirty = True
        self._publish(live, "phase", phase)

    def _log(self, live: _Live, line: str) -> None:
        line = line[:500]
        live.logs.append(line)
        end = _PHASE_END.get(live.phase, live.progress)
        live.progress = min(end, live.progress + (end - live.progress) * 0.05)
        live.dirty = True
        self._publish(live, "log", line)

    def _publish(self, live: _Live, kind: Any, message: str) -> None:
        self.events.publish(
            BuildEvent(
                build_id=live.record.id,
                type=kind,
                status=live.status,
                phase=live.phase,
                progress=round(live.progress, 3),
                message=message,
            )
        )

    def _publish_record(self, record: BuildRecord) -> None:
        self.events.publish(
            BuildEvent(
                build_id=record.id,
                type="final" if record.finished else "status",
                status=record.status,
                phase=record.current_phase,
                progress=record.progress,
                message=record.error_message or (record.logs[-1] if record.logs else ""),
                final=record.finished,
            )
        )

    async def _flush_loop(self) -> None:
        """Write running builds' progress to the database once a second, for other readers."""
        while True:
            await asyncio.sleep(1.0)
            for build_id, live in list(self._live.items()):
                if not live.dirty:
                    continue
                live.dirty = False
                try:
                    await self.queue.transition(
                        build_id,
                        {"building", "testing"},
                        status=live.status,
                        progress=round(live.progress, 3),
                        current_phase=live.phase,
                        logs=list(live.logs),
                    )
                except Exception:
                    log.exception("writing the progress of build %s failed", build_id)

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

    async def _refresh_typical_duration(self) -> None:
        durations = [
            r.result.build_metrics.duration_s
            for r in await self.queue.list("completed", limit=20)
            if r.result is not None and not r.reused and r.result.build_metrics.duration_s
        ]
        self._typical_duration = statistics.median(durations) if durations else _DEFAULT_DURATION

    def _embed_texts(self, texts: list[str]) -> np.ndarray:
        """For the package wrapper's ranking; zeros (no say) when the embedder is unusable."""
        embedder = self.repository.embedder
        if embedder is not None:
            try:
                return np.asarray(embedder.embed(texts))
            except Exception as exc:
                log.warning("embedder unusable for ranking (%s); ranking by tokens", exc)
        return np.zeros((len(texts), 1))


def _new_row(
    build_id: str, request: BuildRequest, requirement: BuildRequirement, **state: Any
) -> BuildRow:
    """A builds-table row for `request`; `state` sets status, progress, logs and the rest."""
    return BuildRow(
        id=build_id,
        priority=request.priority,
        priority_rank=PRIORITY_RANK[request.priority],
        requirement=requirement.model_dump(mode="json"),
        requirement_hash=requirement_hash(requirement),
        context=request.context,
        timeout=request.timeout,
        attempts=0,
        cancel_requested=False,
        **state,
    )


def _as_request(
    request: BuildRequest | BuildRequirement | dict[str, Any],
    *,
    priority: Priority | None,
    timeout: float | None,
    context: str | None,
) -> BuildRequest:
    if isinstance(request, BuildRequirement):
        request = {"requirement": request.model_dump(mode="json", exclude_defaults=True)}
    if isinstance(request, dict):
        request = BuildRequest.model_validate(request)
    overrides = {
        k: v
        for k, v in {"priority": priority, "timeout": timeout, "context": context}.items()
        if v is not None
    }
    return BuildRequest.model_validate({**request.model_dump(), **overrides})


def _validation_failure(report: ValidationReport) -> tuple[str, str]:
    """The failure class a healer acts on, and a one-line summary."""
    if not report.initialized:
        return "runtime_error", "; ".join(report.errors)[:1500]
    if any("timed out" in e or "timeout" in e for e in report.errors):
        return "timeout", "; ".join(report.errors)[:1500]
    if report.errors:
        return "runtime_error", "; ".join(report.errors)[:1500]
    if report.schema_problems:
        return "invalid_schema", "; ".join(f"{p.tool}: {p.message}" for p in report.schema_problems)
    failed = [e for e in report.examples if not e.passed]
    if failed:
        return "example_mismatch", "; ".join(
            f"{e.input!r} → {e.error or repr(e.actual)} (expected {e.expected!r})" for e in failed
        )[:1500]
    if report.tests is not None and not report.tests.passed:
        return "test_failure", report.tests.output_tail[-1500:]
    return "validation_failed", "no tools listed"


def _status_event(view: BuildStatusView) -> BuildEvent:
    return BuildEvent(
        build_id=view.build_id,
        type="final" if view.status in TERMINAL else "status",
        status=view.status,
        phase=view.current_phase,
        progress=view.progress,
        message=view.error_message or (view.logs[-1] if view.logs else ""),
        final=view.status in TERMINAL,
    )


def _timings(workspace: BuildWorkspace | None) -> list[StageTiming]:
    return workspace.timings if workspace is not None else []


def _default_embedder() -> Any:
    try:
        from toolfoundry.discovery.embedders import get_embedder
    except ImportError:
        return None
    try:
        return get_embedder()
    except Exception as exc:  # an embedder that cannot be built: token overlap instead
        log.warning("no embedder for build reuse (%s); using token overlap", exc)
        return None
