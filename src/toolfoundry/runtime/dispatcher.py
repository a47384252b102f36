"""One call path for every tool: resolve → validate → run with timeout/retry → record."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from toolfoundry.core.errors import (
    ArgumentsError,
    BackendUnavailableError,
    PathNotAllowedError,
    PatternTimeoutError,
    SaturatedError,
    ToolfoundryError,
    TransientError,
)
from toolfoundry.core.models import ToolError, ToolResult, utcnow
from toolfoundry.core.tracing import mark_error, tracer
from toolfoundry.registry.catalog import CallLog
from toolfoundry.runtime.backends import Backend, BackendRegistry, ToolOutput
from toolfoundry.runtime.bulkheads import Bulkheads
from toolfoundry.runtime.entries import ToolEntry, ToolTable
from toolfoundry.runtime.recorder import CallRecorder

# Errors worth a second try: the same call may succeed once the cause passes.
_TRANSIENT = (TransientError, ConnectionError, TimeoutError)
# Raised to the caller, not reported as the tool's failure: the caller must wait (backend
# down, bulkhead full) or change the request (a file outside the roots, a runaway pattern).
_RAISED = (BackendUnavailableError, PathNotAllowedError, PatternTimeoutError)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, ToolfoundryError):
        return exc.transient
    return isinstance(exc, _TRANSIENT)


class Dispatcher:
    def __init__(
        self,
        table: ToolTable,
        backends: BackendRegistry,
        recorder: CallRecorder,
        *,
        default_timeout: float = 30.0,
        max_concurrent: int = 64,
        retry_backoff: float = 0.2,
        bulkheads: Bulkheads | None = None,
    ) -> None:
        self.table = table
        self.backends = backends
        self.recorder = recorder
        self.default_timeout = default_timeout
        self.retry_backoff = retry_backoff
        self._limit = asyncio.Semaphore(max_concurrent)
        self.bulkheads = bulkheads or Bulkheads()

    async def call(self, ref: str, arguments: dict[str, Any] | None = None) -> ToolResult:
        """Call a tool by id (`toolkit.tool` or `toolkit.tool@1.2.0`).

        Raises for what the caller must fix or wait out (unknown tool, bad arguments, backend
        unavailable); returns a ToolResult with `is_error` for what went wrong inside the tool.
        """
        entry = self.table.resolve(ref)
        # Names per the OTel GenAI/MCP conventions; an MCP upstream called inside this span
        # receives its trace context in `_meta` (fastmcp's client injects it).
        with tracer.start_as_current_span(
            f"tools/call {entry.tool_id}",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": entry.tool_id,
                "mcp.method.name": "tools/call",
                "toolfoundry.tool.version": entry.version,
                "toolfoundry.tool.kind": str(entry.kind),
            },
        ) as span:
            try:
                result = await self._call(entry, arguments)
            except Exception as exc:  # the span records the exception itself on the way out
                mark_error(span, type(exc).__name__, str(exc))
                raise
            if result.is_error:
                mark_error(span, result.error.type if result.error else "tool_error")
            return result

    async def _call(self, entry: ToolEntry, arguments: dict[str, Any] | None) -> ToolResult:
        started_at = utcnow()
        start = time.perf_counter()
        try:
            kwargs = entry.validate(arguments or {})
        except ArgumentsError as exc:
            self._record(entry, started_at, start, False, exc, 1)
            raise ArgumentsError(exc.errors, tool=entry.tool_id) from None
        backend = self.backends.get(entry.kind)
        timeout = entry.timeout or self.default_timeout
        try:
            # Taken once for the call and its retries, before a global slot: a call refused
            # here never held one (SaturatedError, a 503 with Retry-After).
            async with self.bulkheads.enter(entry):
                return await self._attempts(entry, kwargs, backend, timeout, started_at, start)
        except BackendUnavailableError as exc:
            if not isinstance(exc, SaturatedError):
                raise
            self._record(entry, started_at, start, False, exc, 0)
            raise

    async def _attempts(
        self,
        entry: ToolEntry,
        kwargs: dict[str, Any],
        backend: Backend,
        timeout: float,  # noqa: ASYNC109 - the per-attempt deadline, applied inside
        started_at: Any,
        start: float,
    ) -> ToolResult:
        attempts = 0
        while True:
            attempts += 1
            try:
                async with self._limit, asyncio.timeout(timeout):
                    output = await backend.invoke(entry, kwargs)
            except Exception as exc:  # classified below; nothing escapes unrecorded
                if is_transient(exc) and attempts <= entry.retries:
                    await asyncio.sleep(self.retry_backoff * 2 ** (attempts - 1))
                    continue
                self._record(entry, started_at, start, False, exc, attempts)
                if isinstance(exc, _RAISED):
                    raise
                return self._error_result(entry, exc, start, attempts, timeout)
            success = not output.is_error
            self._record(entry, started_at, start, success, None, attempts, output)
            return ToolResult(
                tool=entry.tool_id,
                version=entry.version,
                content=output.content,
                structured=output.structured,
                blocks=output.blocks,
                is_error=output.is_error,
                error=None
                if success
                else ToolError(type=output.error_type or "ToolError", message=output.content),
                duration_ms=(time.perf_counter() - start) * 1000,
                attempts=attempts,
            )

    def _record(
        self,
        entry: ToolEntry,
        started_at: Any,
        start: float,
        success: bool,
        exc: BaseException | None,
        attempts: int,
        output: ToolOutput | None = None,
    ) -> None:
        error_type = type(exc).__name__ if exc else (output.error_type if output else None)
        if output is not None and output.is_error and error_type is None:
            error_type = "ToolError"
        self.recorder.record(
            CallLog(
                tool_id=entry.tool_id,
                version=entry.version,
                started_at=started_at,
                duration_ms=(time.perf_counter() - start) * 1000,
                success=success,
                error_type=error_type,
                error_message=(
                    str(exc) if exc else output.content if output and not success else None
                ),
                attempts=attempts,
            )
        )

    @staticmethod
    def _error_result(
        entry: ToolEntry, exc: BaseException, start: float, attempts: int, timeout: float
    ) -> ToolResult:
        if isinstance(exc, TimeoutError):
            error = ToolError(
                type="TimeoutError",
                message=f"{entry.tool_id} did not finish within {timeout:g} s",
                transient=True,
            )
        else:
            error = ToolError(
                type=type(exc).__name__, message=str(exc) or repr(exc), transient=is_transient(exc)
            )
        return ToolResult(
            tool=entry.tool_id,
            version=entry.version,
            content=f"{error.type}: {error.message}",
            is_error=True,
            error=error,
            duration_ms=(time.perf_counter() - start) * 1000,
            attempts=attempts,
        )
