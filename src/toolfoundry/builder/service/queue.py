"""The durable build queue: the `builds` table is the source of truth, workers claim from it.

A worker claims the oldest queued build of the highest priority with `SELECT … FOR UPDATE SKIP
LOCKED` (PostgreSQL; SQLite ignores the clause and serialises writers) followed by a conditional
`UPDATE … WHERE status = 'queued'`, so two workers — coroutines of one process or processes sharing
one PostgreSQL — never take the same build. Running builds carry their worker's id and a heartbeat.
On start (and every minute) a pool recovers builds whose worker is gone: retried once, then failed
with the reason, never left in `building`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, field_validator
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from toolfoundry.builder.models import BuildRequirement, Example, SecurityReport, ValidationReport
from toolfoundry.builder.models import StageTiming as StageTiming
from toolfoundry.builder.service.events import TERMINAL, BuildStatus
from toolfoundry.builder.service.repository import McpAsset, requirement_hash
from toolfoundry.builder.strategies.base import Iteration
from toolfoundry.core.errors import NotFoundError
from toolfoundry.core.models import UtcDatetime, utcnow
from toolfoundry.store.tables import BuildRow

log = logging.getLogger(__name__)

Priority = Literal["high", "medium", "low"]
PRIORITY_RANK: dict[str, int] = {"high": 0, "medium": 1, "low": 2}
MAX_ATTEMPTS = 2
"""A build interrupted by a dead worker is started at most this many times."""
MAX_LOG_LINES = 200
STALE_AFTER = timedelta(seconds=60)
ACTIVE = ("queued", "building", "testing")
"""Statuses a cancel applies to; every other one is final."""

# Worker ids of pools running in this process, to tell a live pool from a closed one.
_LIVE_WORKERS: set[str] = set()


class RequirementSpec(BuildRequirement):
    """A requirement as the API accepts it: unknown fields are an error, not ignored."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("examples", mode="before")
    @classmethod
    def _parse_cli_examples(cls, values: Any) -> Any:
        if isinstance(values, list):
            return [Example.parse(v).model_dump() if isinstance(v, str) else v for v in values]
        return values


class BuildRequest(BaseModel):
    """`POST /api/v1/build`: what to build, how urgently and within how long."""

    model_config = ConfigDict(extra="forbid")

    requirement: RequirementSpec
    priority: Priority = "medium"
    timeout: float = Field(600.0, gt=0, le=3600, description="Seconds for the whole build.")
    context: str = Field("", max_length=20_000, description="Why the build was asked for.")


class BuildMetrics(BaseModel):
    strategy: str | None = None
    mode: str | None = None
    """e.g. `package-wrapper (no LLM configured)`."""
    phases: list[StageTiming] = Field(default_factory=list)
    duration_s: float | None = None
    queue_wait_s: float | None = None
    reused: bool = False
    match: str | None = None
    """For a reuse: exact (requirement hash) or similar."""
    similarity: float | None = None
    packages: dict[str, str] = Field(default_factory=dict)


class BuildResult(BaseModel):
    """`GET /api/v1/build/{id}/result`."""

    build_id: str
    success: bool
    mcp_asset: McpAsset | None = None
    error_message: str | None = None
    failure_type: str | None = None
    build_metrics: BuildMetrics = Field(default_factory=BuildMetrics)
    test_results: ValidationReport | None = None
    security: SecurityReport | None = None
    # SerializeAsAny: a strategy's richer iteration records (code, output, repair) are kept.
    iterations: list[SerializeAsAny[Iteration]] = Field(default_factory=list)


class BuildRecord(BaseModel):
    """A build as stored: request, state, progress and (once finished) its result."""

    id: str
    status: BuildStatus
    priority: Priority
    requirement: BuildRequirement
    requirement_hash: str
    context: str
    timeout: float
    strategy: str | None
    progress: float
    current_phase: str
    logs: list[str]
    attempts: int
    worker: str | None
    error_message: str | None
    failure_type: str | None
    result: BuildResult | None
    asset_id: str | None
    reused: bool
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


class BuildQueue:
    """Database operations on the builds table."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._claim_lock = asyncio.Lock()

    async def add(self, row: BuildRow) -> BuildRecord:
        async with self._sessions() as session:
            session.add(row)
            await session.commit()
        return await self.get(row.id)

    async def get(self, build_id: str) -> BuildRecord:
        async with self._sessions() as session:
            row = await session.get(BuildRow, build_id)
        if row is None:
            raise NotFoundError(
                f"no build {build_id!r}",
                hint="List builds with `toolfoundry builds list` or GET /api/v1/builds.",
            )
        return to_record(row)

    async def list(self, status: BuildStatus | None = None, limit: int = 50) -> list[BuildRecord]:
        stmt = select(BuildRow).order_by(BuildRow.created_at.desc()).limit(limit)
        if status is not None:
            stmt = stmt.where(BuildRow.status == status)
        async with self._sessions() as session:
            return [to_record(row) for row in (await session.scalars(stmt)).all()]

    async def recent_outcomes(self, limit: int, since: datetime) -> list[bool]:
        """Success (True) or failure of the latest finished builds, newest first; reuses and
        cancellations built nothing and are left out."""
        stmt = (
            select(BuildRow.status)
            .where(
                BuildRow.status.in_(("completed", "failed")),
                BuildRow.reused.is_(False),
                BuildRow.finished_at >= since,
            )
            .order_by(BuildRow.finished_at.desc())
            .limit(limit)
        )
        async with self._sessions() as session:
            return [status == "completed" for status in (await session.scalars(stmt)).all()]

    async def count(self, status: BuildStatus) -> int:
        async with self._sessions() as session:
            return int(
                await session.scalar(
                    select(func.count()).select_from(BuildRow).where(BuildRow.status == status)
                )
                or 0
            )

    async def claim(self, worker: str) -> BuildRecord | None:
        """Take the next queued build for `worker`, or None when the queue is empty."""
        async with self._claim_lock:
            for _ in range(5):  # another process may win the race for a row: try the next one
                async with self._sessions() as session, session.begin():
                    build_id = await session.scalar(
                        select(BuildRow.id)
                        .where(BuildRow.status == "queued")
                        .order_by(BuildRow.priority_rank, BuildRow.created_at)
                        .limit(1)
                        .with_for_update(skip_locked=True)
                    )
                    if build_id is None:
                        return None
                    now = utcnow()
                    claimed = await session.execute(
                        update(BuildRow)
                        .where(BuildRow.id == build_id, BuildRow.status == "queued")
                        .values(
                            status="building",
                            worker=worker,
                            attempts=BuildRow.attempts + 1,
                            started_at=now,
                            heartbeat_at=now,
                            current_phase="starting",
                        )
                    )
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    return await self.get(build_id)
        return None

    async def update(self, build_id: str, **values: Any) -> None:
        async with self._sessions() as session:
            await session.execute(update(BuildRow).where(BuildRow.id == build_id).values(**values))
            await session.commit()

    async def transition(self, build_id: str, expected: set[str], **values: Any) -> bool:
        """Update only while the build's status is one of `expected`; True if it was."""
        async with self._sessions() as session:
            done = await session.execute(
                update(BuildRow)
                .where(BuildRow.id == build_id, BuildRow.status.in_(expected))
                .values(**values)
            )
            await session.commit()
        return done.rowcount == 1  # type: ignore[attr-defined]

    async def cancel(self, build_id: str, message: str) -> BuildRecord | None:
        """Cancel a build that is not finished: one conditional UPDATE, so it wins against a
        worker claiming or finishing it at the same moment. None if it had already finished.

        The row is `cancelled` at once, queued or running: no worker claims it, recovery never
        requeues it, and the worker running it (here or elsewhere) sees the status and stops."""
        async with self._sessions() as session:
            done = await session.execute(
                update(BuildRow)
                .where(BuildRow.id == build_id, BuildRow.status.in_(ACTIVE))
                .values(
                    status="cancelled",
                    cancel_requested=True,
                    finished_at=utcnow(),
                    error_message=message,
                )
            )
            await session.commit()
        if done.rowcount != 1:  # type: ignore[attr-defined]
            await self.get(build_id)  # NotFoundError for an unknown id
            return None
        return await self.get(build_id)

    async def heartbeat(self, worker: str, build_ids: list[str]) -> set[str]:
        """Mark our running builds alive; returns those that were cancelled meanwhile."""
        if not build_ids:
            return set()
        async with self._sessions() as session:
            await session.execute(
                update(BuildRow)
                .where(BuildRow.id.in_(build_ids), BuildRow.worker == worker)
                .values(heartbeat_at=utcnow())
            )
            cancelled = (
                await session.scalars(
                    select(BuildRow.id).where(
                        BuildRow.id.in_(build_ids),
                        (BuildRow.cancel_requested.is_(True)) | BuildRow.status.not_in(ACTIVE),
                    )
                )
            ).all()
            await session.commit()
        return set(cancelled)

    async def recover(self) -> list[BuildRecord]:
        """Builds left building/testing by a worker that is gone: queued again if they have a
        retry left, failed with the reason otherwise. Returns the recovered builds."""
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(BuildRow).where(BuildRow.status.in_(("building", "testing")))
                )
            ).all()
        recovered = []
        now = utcnow()
        for row in rows:
            if not worker_gone(row.worker, row.heartbeat_at, now):
                continue
            phase = row.current_phase
            who = f"worker {row.worker}" if row.worker else "its worker"
            logs = list(row.logs)
            if row.cancel_requested:
                values: dict[str, Any] = {
                    "status": "cancelled",
                    "finished_at": now,
                    "error_message": "cancelled (its worker stopped before it could)",
                }
            elif row.attempts < MAX_ATTEMPTS:
                logs.append(
                    f"interrupted during {phase} ({who} is gone); retrying "
                    f"(attempt {row.attempts + 1} of {MAX_ATTEMPTS})"
                )
                values = {"status": "queued", "current_phase": "queued", "progress": 0.0}
            else:
                message = (
                    f"the build was interrupted during {phase} ({who} stopped) after "
                    f"{row.attempts} attempts; not retried again. Check the worker's log, "
                    "then resubmit the request"
                )
                logs.append(message)
                values = {
                    "status": "failed",
                    "failure_type": "interrupted",
                    "error_message": message,
                    "finished_at": now,
                }
            values.update(logs=logs[-MAX_LOG_LINES:], worker=None)
            if await self.transition(row.id, {row.status}, **values):
                log.warning("build %s recovered: %s", row.id, values["status"])
                recovered.append(await self.get(row.id))
        return recovered


def to_record(row: BuildRow) -> BuildRecord:
    return BuildRecord(
        id=row.id,
        status=row.status,  # type: ignore[arg-type]
        priority=row.priority,  # type: ignore[arg-type]
        requirement=BuildRequirement.model_validate(row.requirement),
        requirement_hash=row.requirement_hash,
        context=row.context,
        timeout=row.timeout,
        strategy=row.strategy,
        progress=row.progress,
        current_phase=row.current_phase,
        logs=row.logs,
        attempts=row.attempts,
        worker=row.worker,
        error_message=row.error_message,
        failure_type=row.failure_type,
        result=BuildResult.model_validate(row.result) if row.result else None,
        asset_id=row.asset_id,
        reused=row.reused,
        created_at=aware(row.created_at),
        started_at=aware(row.started_at),
        finished_at=aware(row.finished_at),
    )


def aware(value: datetime | None) -> Any:
    # SQLite hands back naive datetimes; every value we store is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def worker_gone(worker: str | None, heartbeat_at: datetime | None, now: datetime) -> bool:
    """A worker on this host is gone when its process is; elsewhere when its heartbeat is stale."""
    if not worker:
        return True
    host, _, rest = worker.partition(":")
    pid_text, _, _token = rest.partition(":")
    if host == socket.gethostname() and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid():
            return worker not in _LIVE_WORKERS
        if not _pid_alive(pid):
            return True
    return heartbeat_at is None or now - aware(heartbeat_at) > STALE_AFTER


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


CancelReason = Literal["user", "shutdown"]
RunBuild = Callable[[BuildRecord], Awaitable[None]]


class WorkerPool:
    """The embedded queue consumer: `concurrency` workers in this process's event loop.

    Several processes may run pools on one PostgreSQL database; they share the queue through
    `BuildQueue.claim`. Cancellation of a build running here cancels its task (the stages kill
    their process groups); one running elsewhere is flagged and its worker's heartbeat sees it.
    """

    def __init__(
        self,
        queue: BuildQueue,
        run: RunBuild,
        *,
        concurrency: int,
        poll_interval: float = 2.0,
        heartbeat_interval: float = 2.0,
    ) -> None:
        self.queue = queue
        self.worker_id = new_worker_id()
        self.concurrency = concurrency
        self._run = run
        self._poll_interval = poll_interval
        self._heartbeat_interval = heartbeat_interval
        self._wake = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._running: dict[str, asyncio.Task[None]] = {}
        self._cancel_reasons: dict[str, CancelReason] = {}
        self._stopping = False

    @property
    def started(self) -> bool:
        return bool(self._loops)

    @property
    def running(self) -> list[str]:
        return list(self._running)

    async def start(
        self, before_workers: Callable[[], Awaitable[None]] | None = None
    ) -> list[BuildRecord]:
        """Recover interrupted builds, run `before_workers` (e.g. sweep what they left), then
        start the workers. Returns the recovered builds."""
        if self._loops:
            return []
        _LIVE_WORKERS.add(self.worker_id)
        recovered = await self.queue.recover()
        if before_workers is not None:
            await before_workers()
        self._stopping = False
        self._loops = [
            asyncio.create_task(self._worker(), name=f"build-worker-{n}")
            for n in range(self.concurrency)
        ]
        self._loops.append(asyncio.create_task(self._heartbeat(), name="build-heartbeat"))
        return recovered

    def wake(self) -> None:
        self._wake.set()

    def cancel(self, build_id: str, reason: CancelReason = "user") -> bool:
        """Cancel a build running in this pool; False if it does not run here."""
        task = self._running.get(build_id)
        if task is None:
            return False
        self._cancel_reasons[build_id] = reason
        task.cancel()
        return True

    def cancel_reason(self, build_id: str) -> CancelReason:
        return self._cancel_reasons.get(build_id, "user")

    async def aclose(self, grace: float = 15.0) -> None:
        """Stop claiming, cancel running builds (they go back to the queue) and wait for them."""
        self._stopping = True
        for loop in self._loops:
            loop.cancel()
        for build_id in list(self._running):
            self.cancel(build_id, "shutdown")
        pending = [*self._loops, *self._running.values()]
        if pending:
            await asyncio.wait(pending, timeout=grace)
        self._loops = []
        _LIVE_WORKERS.discard(self.worker_id)

    async def _worker(self) -> None:
        while not self._stopping:
            try:
                record = await self.queue.claim(self.worker_id)
            except Exception:
                log.exception("claiming a build failed; retrying")
                record = None
            if record is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_interval):
                        await self._wake.wait()
                continue
            if record.status != "building":  # cancelled between its claim and now
                continue
            task = asyncio.create_task(self._run(record), name=f"build-{record.id}")
            self._running[record.id] = task
            try:
                # Shielded: stopping the worker loop must not cancel the build a second time.
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.done():
                    raise
            finally:
                if task.done():
                    self._running.pop(record.id, None)
                    self._cancel_reasons.pop(record.id, None)
                else:
                    task.add_done_callback(lambda _t, i=record.id: self._forget(i))

    def _forget(self, build_id: str) -> None:
        self._running.pop(build_id, None)
        self._cancel_reasons.pop(build_id, None)

    async def _heartbeat(self) -> None:
        beats = 0
        while True:
            await asyncio.sleep(self._heartbeat_interval)
            beats += 1
            try:
                for build_id in await self.queue.heartbeat(self.worker_id, self.running):
                    self.cancel(build_id, "user")
                # Builds submitted by other processes, and workers that died elsewhere.
                if await self.queue.count("queued"):
                    self.wake()
                if beats % 12 == 0:
                    await self.queue.recover()
            except Exception:
                log.exception("build heartbeat failed; retrying")


def new_row(
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


def as_request(
    request: BuildRequest | BuildRequirement | dict[str, Any],
    *,
    priority: Priority | None,
    timeout: float | None,
    context: str | None,
) -> BuildRequest:
    """A validated request; the keyword arguments that are given override its own values."""
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
