"""Bulkheads: a concurrency limit per tool and per shared backend (an MCP server), besides the
dispatcher's global one, so 64 hung calls to one server cannot make every other tool wait.

A call waits at most `wait` seconds for a slot, then fails with `SaturatedError` (503 with
Retry-After) instead of queueing behind calls that may never finish.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from toolfoundry.core.errors import SaturatedError
from toolfoundry.runtime.entries import ToolEntry


class Bulkheads:
    def __init__(self, *, per_tool: int = 16, per_group: int = 16, wait: float = 0.5) -> None:
        self.per_tool = per_tool
        self.per_group = per_group
        self.wait = wait
        # Semaphores are created on first use and kept: one per tool or server ever called,
        # a few hundred bytes each.
        self._limits: dict[str, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def enter(self, entry: ToolEntry) -> AsyncIterator[None]:
        """Hold a slot of the entry's group (if any) and of the tool for the block."""
        async with contextlib.AsyncExitStack() as stack:
            if entry.bulkhead is not None:
                await stack.enter_async_context(
                    self._slot(f"group:{entry.bulkhead}", entry.bulkhead, self.per_group)
                )
            await stack.enter_async_context(
                self._slot(f"tool:{entry.tool_id}", f"tool {entry.tool_id!r}", self.per_tool)
            )
            yield

    @contextlib.asynccontextmanager
    async def _slot(self, key: str, what: str, limit: int) -> AsyncIterator[None]:
        semaphore = self._limits.setdefault(key, asyncio.Semaphore(limit))
        try:
            if self.wait <= 0 and semaphore.locked():
                raise TimeoutError
            async with asyncio.timeout(self.wait):
                await semaphore.acquire()
        except TimeoutError:
            raise SaturatedError(what, limit, retry_after=max(1.0, self.wait)) from None
        try:
            yield
        finally:
            semaphore.release()
