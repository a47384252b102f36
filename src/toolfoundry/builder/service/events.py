"""Progress events of builds: an in-process publish/subscribe, one channel per build.

Events are for live displays (WebSocket, CLI); the builds table stays the record, so a subscriber
in another process falls back to polling it (see `BuildService.watch`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Literal

from pydantic import BaseModel, Field

from toolfoundry.core.models import UtcDatetime, utcnow

BuildStatus = Literal["queued", "building", "testing", "completed", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
EventType = Literal["status", "phase", "log", "final"]

_QUEUE_SIZE = 1000


class BuildEvent(BaseModel):
    build_id: str
    type: EventType
    status: BuildStatus
    phase: str
    progress: float = Field(ge=0, le=1)
    message: str = ""
    timestamp: UtcDatetime = Field(default_factory=utcnow)
    final: bool = False
    """The last event of the build: its status is completed, failed or cancelled."""


class BuildEvents:
    """Fan-out of each build's events to its current subscribers."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[BuildEvent]]] = {}

    def publish(self, event: BuildEvent) -> None:
        for queue in self._subscribers.get(event.build_id, ()):
            if queue.full():
                # A slow reader loses old log lines, never the final event.
                queue.get_nowait()
            queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self, build_id: str) -> AsyncIterator[asyncio.Queue[BuildEvent]]:
        queue: asyncio.Queue[BuildEvent] = asyncio.Queue(maxsize=_QUEUE_SIZE)
        self._subscribers.setdefault(build_id, set()).add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers.get(build_id, set())
            subscribers.discard(queue)
            if not subscribers:
                self._subscribers.pop(build_id, None)
