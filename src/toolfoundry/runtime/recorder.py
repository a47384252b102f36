"""Buffers call records and writes them in batches, off the call's hot path."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from toolfoundry.core.metrics import TOOL_CALLS
from toolfoundry.registry.catalog import CallLog, Catalog

log = logging.getLogger(__name__)


class CallRecorder:
    def __init__(self, catalog: Catalog, *, interval: float = 0.5, max_batch: int = 500) -> None:
        self._catalog = catalog
        self._interval = interval
        self._max_batch = max_batch
        self._pending: list[CallLog] = []
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def record(self, call: CallLog) -> None:
        TOOL_CALLS.labels(call.tool_id, "ok" if call.success else "error").inc()
        self._pending.append(call)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        if len(self._pending) >= self._max_batch:
            self._wake.set()

    async def flush(self) -> None:
        """Write everything recorded so far; reads of usage call this first to be exact."""
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                await self._catalog.record_calls(batch)
            except Exception:
                # Keep the records for the next attempt rather than lose them.
                self._pending[:0] = batch
                raise

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("writing call records failed; will retry")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
