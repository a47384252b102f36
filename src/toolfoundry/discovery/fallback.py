"""Discovery within a latency budget: past it, a cached or a static answer.

The reference design's alert "discovery latency > 5 s → fall back to static tools", acted on by
the service: a discovery that takes longer than `discovery_latency_budget` is answered at once
from the cache of recent answers to the same request, or else with the static tools (configured,
or the most used ones). The slow discovery keeps running and fills the cache, so the next ask of
the same request gets its real answer. `fallback_reason` says which answer a caller got.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Hashable

from toolfoundry.core.metrics import DISCOVERY_FALLBACKS
from toolfoundry.discovery.results import (
    DiscoveryResult,
    ExecutionPlan,
    QueryAnalysis,
    RankedTool,
    ToolFiltering,
    ToolkitSelection,
)

log = logging.getLogger(__name__)

StaticTools = Callable[[int], Awaitable[list[RankedTool]]]
_RECENT_S = 300.0  # fallbacks counted in /ready


class LatencyGuard:
    def __init__(self, budget: float, static_tools: StaticTools, cache_size: int = 512) -> None:
        self.budget = budget
        self._static_tools = static_tools
        self._cache: OrderedDict[Hashable, DiscoveryResult] = OrderedDict()
        self._cache_size = cache_size
        self._background: set[asyncio.Task[DiscoveryResult]] = set()
        self._recent: deque[tuple[float, str]] = deque(maxlen=1000)

    async def run(
        self, key: Hashable, query: str, top_k: int, discover: Awaitable[DiscoveryResult]
    ) -> DiscoveryResult:
        task = asyncio.ensure_future(discover)
        task.add_done_callback(lambda done: self._remember(key, done))
        try:
            # shield: past the budget the discovery goes on and fills the cache.
            async with asyncio.timeout(self.budget):
                return await asyncio.shield(task)
        except TimeoutError:
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        cached = self._cache.get(key)
        if cached is not None:
            return self._fallback(cached, "cached", "an earlier answer to the same request")
        static = await self._static_tools(top_k)
        return self._fallback(_static_answer(query, static), "static", "the static tools")

    @property
    def summary(self) -> str:
        """For /ready: ok, or how often discovery fell back lately."""
        cutoff = time.monotonic() - _RECENT_S
        recent = [reason for at, reason in self._recent if at >= cutoff]
        if not recent:
            return f"ok (latency budget {self.budget:g} s)"
        return (
            f"degraded: {len(recent)} answers past the {self.budget:g} s budget in the last "
            f"{_RECENT_S / 60:g} min (last from {recent[-1]})"
        )

    async def aclose(self) -> None:
        for task in list(self._background):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _remember(self, key: Hashable, task: asyncio.Task[DiscoveryResult]) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        self._cache[key] = task.result()
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _fallback(self, result: DiscoveryResult, reason: str, source: str) -> DiscoveryResult:
        DISCOVERY_FALLBACKS.labels(reason).inc()
        self._recent.append((time.monotonic(), reason))
        log.warning("discovery exceeded its %g s budget; answering from %s", self.budget, source)
        return result.model_copy(
            update={
                "fallback_reason": f"discovery took longer than its {self.budget:g} s latency "
                f"budget; this answer comes from {source} (TOOLFOUNDRY_DISCOVERY_LATENCY_BUDGET)",
                "latency_ms": self.budget * 1000,
            }
        )


def _static_answer(query: str, tools: list[RankedTool]) -> DiscoveryResult:
    """Static tools in the result shape: no analysis, no gaps claimed (nothing was analysed)."""
    return DiscoveryResult(
        query=query,
        mode="retrieval",
        analysis=QueryAnalysis(core_intent=query, reasoning="static fallback: not analysed"),
        toolkit_selection=ToolkitSelection(),
        tool_filtering=ToolFiltering(
            tools=tools,
            execution_plan=ExecutionPlan(),
            reasoning="static tools: discovery was past its latency budget",
        ),
        coverage=0.0,
    )
