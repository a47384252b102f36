"""Progress of the builds running in this process: phases and log lines move a 0–1 progress,
are published as events at once and written to the builds table once a second for readers in
other processes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from toolfoundry.builder.errors import Phase
from toolfoundry.builder.service.events import BuildEvent, BuildEvents, BuildStatus
from toolfoundry.builder.service.queue import MAX_LOG_LINES, BuildQueue, BuildRecord

log = logging.getLogger(__name__)

# Where each phase starts on the 0–1 progress scale; log lines creep towards the next one.
# Every `Phase` has its place, so a strategy's phases (CodeReAct's analysing, researching,
# syntax check) move the bar too.
PHASE_PROGRESS: dict[Phase, float] = {
    Phase.STARTING: 0.02,
    Phase.ANALYSING: 0.03,
    Phase.RESEARCHING: 0.04,
    Phase.ENVIRONMENT: 0.05,
    Phase.GENERATING: 0.45,
    Phase.SYNTAX_CHECK: 0.60,
    Phase.SECURITY_SCAN: 0.65,
    Phase.VALIDATING: 0.70,
    Phase.REGISTERING: 0.92,
}
assert set(PHASE_PROGRESS) == set(Phase), "every phase needs its place on the progress scale"
_PHASE_END = dict(zip(PHASE_PROGRESS, [*list(PHASE_PROGRESS.values())[1:], 0.99], strict=True))


@dataclass
class LiveBuild:
    """A build running in this process: the state readers see before it reaches the database."""

    record: BuildRecord
    status: BuildStatus = "building"
    phase: str = "starting"
    progress: float = PHASE_PROGRESS[Phase.STARTING]
    logs: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_LOG_LINES))
    started: float = field(default_factory=time.monotonic)
    dirty: bool = True


class Progress:
    """The live builds of this process and their events."""

    def __init__(self, queue: BuildQueue, events: BuildEvents) -> None:
        self.queue = queue
        self.events = events
        self.live: dict[str, LiveBuild] = {}

    def begin(self, record: BuildRecord) -> LiveBuild:
        live = LiveBuild(record=record)
        live.logs.extend(record.logs)  # the queue's and earlier attempts' lines stay in the log
        self.live[record.id] = live
        return live

    def end(self, build_id: str) -> None:
        self.live.pop(build_id, None)

    def phase(self, live: LiveBuild, phase: Phase) -> None:
        phase = Phase(phase)
        live.phase = phase.value
        live.status = "testing" if phase is Phase.VALIDATING else "building"
        live.progress = max(live.progress, PHASE_PROGRESS[phase])
        live.logs.append(f"— {phase}")
        live.dirty = True
        self._publish(live, "phase", phase)

    def log(self, live: LiveBuild, line: str) -> None:
        line = line[:500]
        live.logs.append(line)
        end = _PHASE_END[Phase(live.phase)]
        live.progress = min(end, live.progress + (end - live.progress) * 0.05)
        live.dirty = True
        self._publish(live, "log", line)

    def _publish(self, live: LiveBuild, kind: Any, message: str) -> None:
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

    def publish_record(self, record: BuildRecord) -> None:
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

    async def flush_loop(self) -> None:
        """Write running builds' progress to the database once a second, for other readers."""
        while True:
            await asyncio.sleep(1.0)
            for build_id, live in list(self.live.items()):
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
