"""`TrajectoryRun`: one agent run recorded as it happens, for code that drives an agent."""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from pydantic import ValidationError

from toolfoundry.core.errors import InvalidInputError
from toolfoundry.trajectory.models import (
    StepInput,
    StepType,
    Trajectory,
    TrajectoryFinish,
    TrajectoryStart,
)

if TYPE_CHECKING:
    from toolfoundry.core.models import ToolResult
    from toolfoundry.discovery.results import DiscoveryResult
    from toolfoundry.discovery.service import DiscoverMode
    from toolfoundry.trajectory.service import TrajectoryService


class TrajectoryRun:
    """```python
    async with library.trajectory("chart revenue by month", scenario="sales") as run:
        found = await run.discover("read sales.xlsx")      # discovery steps recorded
        table = await run.call("tabular.read_excel", {...})  # a tool_execution step
        run.succeed({"answer": "..."})
    ```
    Leaving the block without `succeed`/`fail` finishes the run as succeeded, or as failed
    when an exception escapes it (the exception is not swallowed).
    """

    def __init__(self, service: TrajectoryService, start: TrajectoryStart) -> None:
        self._service = service
        self._start = start
        self._trajectory: Trajectory | None = None
        self._outcome: TrajectoryFinish | None = None

    @property
    def trajectory(self) -> Trajectory:
        if self._trajectory is None:
            raise RuntimeError("the run has not started: use `async with library.trajectory(...)`")
        return self._trajectory

    @property
    def id(self) -> str:
        return self.trajectory.trajectory_id

    async def call(self, ref: str, arguments: dict[str, Any] | None = None) -> ToolResult:
        return await self._service.call(self.id, ref, arguments)

    async def step(self, step_type: StepType | str, **fields: Any) -> None:
        """Record any other decision: `input_data`, `output_data`, `llm_interaction`,
        `execution_time` (seconds) …"""
        try:
            step = StepInput(step_type=step_type, **fields)  # type: ignore[arg-type]
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '(step)'}: {e['msg']}" for e in exc.errors()
            )
            raise InvalidInputError(
                f"invalid trajectory step: {problems}",
                hint="step_type is one of " + ", ".join(t.value for t in StepType) + "; other "
                "fields: tool_id, input_data, output_data, llm_interaction, performance_metrics, "
                "execution_time, success, error_type.",
            ) from None
        await self._service.add_step(self.id, step)

    async def discover(
        self, query: str | None = None, *, top_k: int = 5, mode: DiscoverMode = "auto"
    ) -> DiscoveryResult:
        """Discover tools and record the three reasoning steps the result carries."""
        query = query or self.trajectory.user_query
        started = time.perf_counter()
        result = await self._service.discover(query, top_k=top_k, mode=mode)
        elapsed = time.perf_counter() - started
        analysis = result.analysis
        # The agent's own scenario wins; "general" says nothing worth learning under.
        scenario = analysis.scenario_classification
        if self.trajectory.identified_scenario is None and scenario != "general":
            self.trajectory.identified_scenario = scenario
        for step_type, output in (
            (StepType.SCENARIO_IDENTIFICATION, analysis.model_dump(mode="json")),
            (StepType.TOOLKIT_SELECTION, result.toolkit_selection.model_dump(mode="json")),
            (StepType.TOOL_SELECTION, result.tool_filtering.model_dump(mode="json")),
        ):
            await self.step(
                step_type,
                input_data={"query": query, "mode": result.mode},
                output_data=output,
                execution_time=elapsed,
            )
        return result

    def succeed(self, result: dict[str, Any] | None = None) -> None:
        self._outcome = TrajectoryFinish(success=True, result=result)

    def fail(self, result: dict[str, Any] | None = None) -> None:
        self._outcome = TrajectoryFinish(success=False, result=result)

    async def __aenter__(self) -> Self:
        self._trajectory = await self._service.start(self._start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        outcome = self._outcome
        if outcome is None and exc is None:
            outcome = TrajectoryFinish(success=True)
        elif outcome is None:
            outcome = TrajectoryFinish(
                success=False, result={"error": f"{type(exc).__name__}: {exc}"}
            )
        if outcome.scenario is None and self.trajectory.identified_scenario:
            outcome.scenario = self.trajectory.identified_scenario
        self._trajectory = await self._service.finish(self.id, outcome)
