"""Trajectories over the catalog: record runs step by step, and feed what finished runs teach
back into the catalog (effectiveness, usage notes) and discovery (the requests a tool served)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from toolfoundry.core.errors import InvalidInputError, ToolfoundryError
from toolfoundry.core.metrics import TRAJECTORIES, TRAJECTORY_STEPS
from toolfoundry.core.models import Tool, ToolResult
from toolfoundry.trajectory import learning
from toolfoundry.trajectory.models import (
    StepInput,
    StepType,
    ToolCombination,
    ToolInsights,
    Trajectory,
    TrajectoryFinish,
    TrajectoryStart,
    TrajectoryStep,
)
from toolfoundry.trajectory.store import TrajectoryStore

MAX_RETENTION_DAYS = 36_500
"""A century: beyond it the cut-off date is not representable."""

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from toolfoundry.discovery.results import DiscoveryResult


class ToolCaller(Protocol):
    async def call(self, ref: str, arguments: dict[str, Any] | None = None) -> ToolResult: ...


class ToolReader(Protocol):
    async def get_tool(self, ref: str) -> Tool: ...

    async def list_tools(self) -> list[Tool]: ...


class Discover(Protocol):
    """Discovery as a run records it (`TrajectoryRun.discover`)."""

    def __call__(
        self, query: str, *, top_k: int = ..., mode: Any = ...
    ) -> Awaitable[DiscoveryResult]: ...


class TrajectoryService:
    """Runs and what they teach. `learned(tool_ids)` announces tools whose learned state
    changed, so caches move on here and in every other process."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        caller: ToolCaller,
        reader: ToolReader,
        discover: Discover,
        learned: Callable[[list[str]], Awaitable[None]],
    ) -> None:
        self.store = TrajectoryStore(sessions)
        self._sessions = sessions
        self._caller = caller
        self._reader = reader
        self.discover = discover
        self._learned = learned

    async def start(self, start: TrajectoryStart) -> Trajectory:
        return await self.store.start(start)

    async def add_step(self, trajectory_id: str, step: StepInput) -> TrajectoryStep:
        recorded = await self.store.add_step(trajectory_id, step)
        TRAJECTORY_STEPS.labels(step.step_type.value, "ok" if step.success else "error").inc()
        return recorded

    async def call(
        self, trajectory_id: str, ref: str, arguments: dict[str, Any] | None = None
    ) -> ToolResult:
        """Call a tool and record the call as the run's next tool_execution step. A call the
        dispatcher refuses (unknown tool, bad arguments, backend down) is recorded as a failed
        step, then raised as usual."""
        arguments = arguments or {}
        await self.store.ensure_running(trajectory_id)  # refuse before the tool runs
        started = time.perf_counter()
        try:
            result = await self._caller.call(ref, arguments)
        except ToolfoundryError as exc:
            await self.add_step(
                trajectory_id,
                StepInput(
                    step_type=StepType.TOOL_EXECUTION,
                    tool_id=ref.partition("@")[0],
                    input_data={"arguments": arguments},
                    output_data={"error": exc.detail},
                    execution_time=time.perf_counter() - started,
                    success=False,
                    error_type=type(exc).__name__,
                ),
            )
            raise
        await self.add_step(
            trajectory_id,
            StepInput(
                step_type=StepType.TOOL_EXECUTION,
                tool_id=result.tool,
                input_data={"arguments": arguments, "version": result.version},
                output_data={"content": result.content[:2000], "is_error": result.is_error},
                execution_time=result.duration_ms / 1000,
                success=not result.is_error,
                error_type=result.error.type if result.error else None,
            ),
        )
        return result

    async def finish(self, trajectory_id: str, finish: TrajectoryFinish) -> Trajectory:
        """Close the run; the tools it used learn from its outcome at once (ranking priors,
        served requests, usage notes), on every replica."""
        trajectory, tool_ids = await self.store.finish(trajectory_id, finish)
        TRAJECTORIES.labels("succeeded" if finish.success else "failed").inc()
        if tool_ids:
            await self._learned(tool_ids)
        return trajectory

    async def get(self, trajectory_id: str) -> Trajectory:
        return await self.store.get(trajectory_id)

    async def list(self, **filters: Any) -> list[Trajectory]:
        return await self.store.list(**filters)

    async def prune(self, older_than_days: float) -> int:
        """Delete finished runs older than the given age; returns how many."""
        if not 0 <= older_than_days <= MAX_RETENTION_DAYS:  # also refuses nan and inf
            raise InvalidInputError(
                f"older_than_days must be between 0 and {MAX_RETENTION_DAYS}, "
                f"not {older_than_days!r}",
                hint="Give the age in days, e.g. 30.",
            )
        deleted = await self.store.prune(timedelta(days=older_than_days))
        if deleted:
            # Served requests may have gone with them: re-read every tool's learned state.
            await self._learned([t.id for t in await self._reader.list_tools()])
        return deleted

    async def insights(self, ref: str) -> ToolInsights:
        tool = await self._reader.get_tool(ref)
        return await learning.tool_insights(self._sessions, tool)

    async def combinations(self, **options: Any) -> list[ToolCombination]:
        return await learning.combinations(self._sessions, **options)
