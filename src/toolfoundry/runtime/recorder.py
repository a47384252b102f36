"""Call records, written in batches (group commit), durable before a call is acknowledged.

Every call appends its record; `wait_durable()` — awaited by `ToolLibrary.call` before it
returns — wakes the writer, which commits everything pending in one transaction (records of
calls finishing meanwhile ride along: the batch grows with the load) and releases the waiters
whose records it wrote. `commit_window` (seconds) lets the writer gather a few more calls before
committing; 0 commits at once. `durable=False` restores the old fire-and-forget mode (records
buffered up to `interval`, lost on a kill -9).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

from toolfoundry.core.metrics import TOOL_CALLS
from toolfoundry.registry.catalog import CallLog

log = logging.getLogger(__name__)

_DURABLE_WAIT = 10.0
"""Seconds a call waits for its record before answering anyway (the database is failing)."""


class CallSink(Protocol):
    """Where batches of call records are committed (the catalog)."""

    async def record_calls(self, calls: Sequence[CallLog]) -> None: ...


class CallRecorder:
    def __init__(
        self,
        sink: CallSink,
        *,
        interval: float = 0.5,
        max_batch: int = 500,
        durable: bool = True,
        commit_window: float = 0.0,
    ) -> None:
        self._sink = sink
        self._interval = interval
        self._max_batch = max_batch
        self.durable = durable
        self._commit_window = commit_window
        self._pending: list[CallLog] = []
        self._recorded = 0  # sequence number of the last record taken
        self._committed = 0  # ... and of the last one known to be in the database
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._urgent = False
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def record(self, call: CallLog) -> None:
        TOOL_CALLS.labels(call.tool_id, "ok" if call.success else "error").inc()
        self._pending.append(call)
        self._recorded += 1
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        if len(self._pending) >= self._max_batch:
            self._wake.set()

    async def wait_durable(self) -> None:
        """Return once every call recorded so far is committed (at once when not `durable`)."""
        target = self._recorded
        if not self.durable or self._committed >= target:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        self._urgent = True
        self._wake.set()
        try:
            async with asyncio.timeout(_DURABLE_WAIT):
                await asyncio.shield(future)
        except TimeoutError:
            log.error("call records not written within %.0fs; answering anyway", _DURABLE_WAIT)

    async def flush(self) -> None:
        """Write everything recorded so far; reads of usage call this first to be exact."""
        async with self._lock:
            # Taken together, without an await between: `upto` covers exactly this batch.
            batch, self._pending, upto = self._pending, [], self._recorded
            if batch:
                try:
                    await self._sink.record_calls(batch)
                except Exception:
                    # Keep the records for the next attempt rather than lose them.
                    self._pending[:0] = batch
                    raise
            self._committed = max(self._committed, upto)
            self._release()

    def _release(self) -> None:
        waiting = []
        for target, future in self._waiters:
            if target <= self._committed:
                if not future.done():
                    future.set_result(None)
            else:
                waiting.append((target, future))
        self._waiters = waiting

    async def _run(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow the cancel of aclose.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
            if self._urgent and self._commit_window > 0:
                await asyncio.sleep(self._commit_window)  # let concurrent calls join the batch
            self._urgent = False
            try:
                await self.flush()
            except Exception:
                log.exception("writing call records failed; will retry")
                await asyncio.sleep(0.1)
                self._wake.set()

    async def aclose(self) -> None:
        """Stop the writer and write what is left (a graceful shutdown loses nothing)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
