"""What `GET /build/{id}/status` answers: a live build's state from memory, any other from the
builds table, with the time left estimated from the durations of recent builds."""

from __future__ import annotations

import statistics
import time

from pydantic import BaseModel

from toolfoundry.builder.service.events import TERMINAL, BuildEvent, BuildStatus
from toolfoundry.builder.service.progress import LiveBuild
from toolfoundry.builder.service.queue import BuildQueue, BuildRecord
from toolfoundry.core.models import utcnow

_STATUS_LOGS = 20
_DEFAULT_DURATION = 60.0


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


class TypicalDuration:
    """The median duration of recent completed (not reused) builds."""

    def __init__(self, queue: BuildQueue) -> None:
        self.queue = queue
        self.seconds = _DEFAULT_DURATION

    async def refresh(self) -> None:
        durations = [
            r.result.build_metrics.duration_s
            for r in await self.queue.list("completed", limit=20)
            if r.result is not None and not r.reused and r.result.build_metrics.duration_s
        ]
        self.seconds = statistics.median(durations) if durations else _DEFAULT_DURATION


def live_status(live: LiveBuild, typical: float) -> BuildStatusView:
    elapsed = time.monotonic() - live.started
    return BuildStatusView(
        build_id=live.record.id,
        status=live.status,
        progress=round(live.progress, 3),
        current_phase=live.phase,
        logs=list(live.logs)[-_STATUS_LOGS:],
        estimated_remaining=round(max(1.0, typical - elapsed), 1),
        strategy=live.record.strategy,
        attempts=live.record.attempts,
        reused=False,
        error_message=None,
    )


def stored_status(record: BuildRecord, typical: float) -> BuildStatusView:
    if record.finished:
        remaining: float | None = 0.0
    elif record.status == "queued":
        remaining = typical
    else:  # running in another process
        started = record.started_at or utcnow()
        remaining = max(1.0, typical - (utcnow() - started).total_seconds())
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


def status_event(view: BuildStatusView) -> BuildEvent:
    return BuildEvent(
        build_id=view.build_id,
        type="final" if view.status in TERMINAL else "status",
        status=view.status,
        phase=view.current_phase,
        progress=view.progress,
        message=view.error_message or (view.logs[-1] if view.logs else ""),
        final=view.status in TERMINAL,
    )
