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
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from toolfoundry.builder.errors import BuildError, FailureKind, Phase
from toolfoundry.builder.models import BuildRequirement
from toolfoundry.builder.service.assets import sweep_orphan_assets
from toolfoundry.builder.service.events import TERMINAL, BuildEvent, BuildEvents, BuildStatus
from toolfoundry.builder.service.progress import Progress
from toolfoundry.builder.service.queue import (
    BuildQueue,
    BuildRecord,
    BuildRequest,
    BuildResult,
    Priority,
    WorkerPool,
    as_request,
    new_row,
)
from toolfoundry.builder.service.repository import McpRepository
from toolfoundry.builder.service.reuse import reuse_asset
from toolfoundry.builder.service.runner import BuildRunner, RunnerSetup
from toolfoundry.builder.service.status import (
    BuildStatusView,
    TypicalDuration,
    live_status,
    status_event,
    stored_status,
)
from toolfoundry.builder.stages.environment import BuildEnvironment
from toolfoundry.builder.stages.sandbox import (
    BubblewrapSandbox,
    ResourceLimits,
    Sandbox,
    UnsandboxedRunner,
    sandbox_fix,
)
from toolfoundry.builder.stages.sandbox import sandbox_available as _sandbox_available
from toolfoundry.builder.stages.validator import ValidationTimeouts
from toolfoundry.builder.strategies.base import BuildStrategy
from toolfoundry.builder.strategies.selection import Strategies
from toolfoundry.builder.strategies.wrap.strategy import PackageWrapperStrategy
from toolfoundry.core import metrics
from toolfoundry.core.errors import ConflictError, InvalidInputError
from toolfoundry.core.models import utcnow

if TYPE_CHECKING:
    from toolfoundry.builder.ports import BuildHost

log = logging.getLogger(__name__)

_AUTO = object()

__all__ = ["BuildService", "BuildStatusView"]


class BuildService:
    """Submit, run, watch and cancel builds; reuse what the repository already has."""

    def __init__(
        self,
        host: BuildHost,
        *,
        sandbox: Sandbox | None = None,
        environment: BuildEnvironment | None = None,
        embedder: Any = _AUTO,
        concurrency: int | None = None,
        validation_timeouts: ValidationTimeouts | None = None,
        allow_unsandboxed: bool = False,
    ) -> None:
        """`host`: the ports a build needs (the library satisfies them; see `ports`).
        `embedder`: for similarity reuse (default: discovery's `get_embedder()`, token overlap
        when that cannot load; None forces token overlap). `allow_unsandboxed` lets builds run
        without bubblewrap where it is unusable — logged on every launch."""
        self.host = host
        settings = host.settings
        sessions = host.catalog.sessions
        self.data_dir = Path(settings.data_dir)
        self.queue = BuildQueue(sessions)
        self.events = BuildEvents()
        self.progress = Progress(self.queue, self.events)
        self.durations = TypicalDuration(self.queue)
        self.repository = McpRepository(
            sessions,
            self.data_dir / "mcp_assets",
            embedder=_default_embedder() if embedder is _AUTO else embedder,
        )
        first, _, last = settings.sandbox_uids.partition("-")
        self._sandbox_uids = range(int(first), int(last) + 1)
        disk = settings.sandbox_disk_mb * 1024**2
        self.allow_unsandboxed = allow_unsandboxed
        self._sandbox = sandbox
        self.strategies = Strategies(llm_configured=host.llm is not None)
        self.register_strategy(PackageWrapperStrategy(embed=self._embed_texts))
        if host.llm is not None:
            from toolfoundry.builder.strategies.codereact.strategy import CodeReActStrategy

            self.register_strategy(CodeReActStrategy.from_settings(settings, host.llm))
        self.pool = WorkerPool(
            self.queue, self._run, concurrency=concurrency or settings.max_concurrent_builds
        )
        self.runner = BuildRunner(
            host,
            setup=RunnerSetup(
                data_dir=self.data_dir,
                environment=environment
                or BuildEnvironment(cache_dir=settings.uv_cache_dir or self.data_dir / "uv-cache"),
                validation_limits=ResourceLimits(disk_bytes=disk),
                server_limits=ResourceLimits(
                    cpu_seconds=settings.sandbox_server_cpu_seconds,
                    wall_seconds=settings.sandbox_server_wall_seconds,
                    disk_bytes=disk,
                ),
                validation_timeouts=validation_timeouts,
            ),
            queue=self.queue,
            repository=self.repository,
            progress=self.progress,
            strategies=self.strategies,
            sandbox=lambda: self.sandbox,
            cancel_reason=self.pool.cancel_reason,
            durations=self.durations,
        )
        self._start_lock = asyncio.Lock()
        self._flusher: asyncio.Task[None] | None = None

    @property
    def environment(self) -> BuildEnvironment:
        return self.runner.setup.environment

    @property
    def server_limits(self) -> ResourceLimits:
        return self.runner.setup.server_limits

    @property
    def validation_limits(self) -> ResourceLimits:
        return self.runner.setup.validation_limits

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
            self.progress.publish_record(record)
            if record.status == "failed":
                metrics.BUILD_REQUESTS.labels(record.priority, "failed").inc()
        self._flusher = asyncio.create_task(self.progress.flush_loop(), name="build-progress-flush")
        await self.durations.refresh()

    async def _sweep_at_start(self) -> None:
        try:
            await self.sweep_orphan_assets()
        except Exception:
            log.exception("sweeping orphan asset directories failed")

    async def sweep_orphan_assets(self) -> list[Path]:
        """What builds killed before their asset row was committed left (see `assets`)."""
        return await sweep_orphan_assets(
            self.repository, self.queue, self.host, self.data_dir / "builds"
        )

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
        self.strategies.register(strategy)

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
                raise BuildError(
                    f"the bubblewrap sandbox is unusable here ({status.reason}); "
                    f"{sandbox_fix(status)}; or run builds unsandboxed only by an explicit "
                    "opt-in",
                    phase=Phase.STARTING,
                    kind=FailureKind.SANDBOX_UNAVAILABLE,
                )
        return self._sandbox

    def strategy_mode(self, requested: str | None = None) -> tuple[BuildStrategy, str]:
        """The strategy a build uses and how to describe that choice in logs and results."""
        return self.strategies.choose(requested)

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
        request = as_request(request, priority=priority, timeout=timeout, context=context)
        if strategy is not None and strategy not in self.strategies:
            raise InvalidInputError(
                f"unknown build strategy {strategy!r}",
                hint=f"Use one of {self.strategies.names()}.",
            )
        requirement = BuildRequirement.model_validate(request.requirement.model_dump())
        build_id = f"bld_{uuid.uuid4().hex[:16]}"
        if reuse:
            reused = await reuse_asset(
                self.host, self.host, self.repository, self.queue, build_id, request, requirement
            )
            if reused is not None:
                self.progress.publish_record(reused)
                return reused
        record = await self.queue.add(
            new_row(
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
        self.progress.publish_record(record)
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
        live = self.progress.live.get(build_id)
        if live is not None:
            return live_status(live, self.durations.seconds)
        return stored_status(await self.queue.get(build_id), self.durations.seconds)

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
        return self.durations.seconds

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
            self.progress.publish_record(cancelled)
        # else the task publishes the final event once its processes are stopped (`_cancelled`)
        return cancelled

    async def watch(self, build_id: str) -> AsyncIterator[BuildEvent]:
        """The build's events from now until its final one, starting with its current state.
        Builds running in another process are followed by polling the database."""
        async with self.events.subscribe(build_id) as queue:
            last = await self.status(build_id)
            yield status_event(last)
            if last.status in TERMINAL:
                return
            while True:
                try:
                    async with asyncio.timeout(2.0):
                        event = await queue.get()
                except TimeoutError:
                    current = await self.status(build_id)
                    if current.status in TERMINAL or (
                        build_id not in self.progress.live
                        and (current.progress, current.current_phase, current.status)
                        != (last.progress, last.current_phase, last.status)
                    ):
                        last = current
                        yield status_event(current)
                        if current.status in TERMINAL:
                            return
                    continue
                yield event
                if event.final:
                    return

    # --- running ----------------------------------------------------------------------------

    async def _run(self, record: BuildRecord) -> None:
        await self.runner.run(record)

    def _embed_texts(self, texts: list[str]) -> np.ndarray:
        """For the package wrapper's ranking; zeros (no say) when the embedder is unusable."""
        embedder = self.repository.embedder
        if embedder is not None:
            try:
                return np.asarray(embedder.embed(texts))
            except Exception as exc:
                log.warning("embedder unusable for ranking (%s); ranking by tokens", exc)
        return np.zeros((len(texts), 1))


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
