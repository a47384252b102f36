"""Trajectories in the database: start a run, append steps, finish it and learn from it in the
same transaction, read them back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from toolfoundry.core.errors import ConflictError, InvalidInputError, NotFoundError
from toolfoundry.core.models import utcnow
from toolfoundry.store.tables import TrajectoryRow, TrajectoryStepRow
from toolfoundry.trajectory.learning import learn_from_run
from toolfoundry.trajectory.models import (
    StepInput,
    StepType,
    Trajectory,
    TrajectoryFinish,
    TrajectoryStart,
    TrajectoryStep,
)

_WRITE_ATTEMPTS = 5  # concurrent finishes may race to create one metrics row


class TrajectoryStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def start(self, start: TrajectoryStart) -> Trajectory:
        row = TrajectoryRow(
            trajectory_id=f"tr_{uuid.uuid4().hex[:20]}",
            user_query=start.query.strip(),
            identified_scenario=start.scenario or None,
            agent_version=start.agent_version,
            llm_model=start.llm_model,
            meta=start.metadata,
            status="running",
            total_steps=0,
            start_time=utcnow(),
            created_at=utcnow(),
        )
        if not row.user_query:
            raise InvalidInputError(
                "the trajectory's query is empty", hint="Pass the user's request as `query`."
            )
        async with self._sessions() as session:
            session.add(row)
            await session.commit()
        return _trajectory(row)

    async def add_step(self, trajectory_id: str, step: StepInput) -> TrajectoryStep:
        """Append a step; its index is the run's next one. The index comes from one atomic
        `UPDATE … RETURNING` on the run, so concurrent appends never collide."""
        if step.step_type is StepType.TOOL_EXECUTION and not step.tool_id:
            raise InvalidInputError(
                "a tool_execution step needs tool_id",
                hint="Name the tool that ran, e.g. `stats.mean`.",
            )
        async with self._sessions() as session:
            index = await session.scalar(
                update(TrajectoryRow)
                .where(
                    TrajectoryRow.trajectory_id == trajectory_id,
                    TrajectoryRow.status == "running",
                )
                .values(total_steps=TrajectoryRow.total_steps + 1)
                .returning(TrajectoryRow.total_steps)
            )
            if index is None:
                await self._refuse(session, trajectory_id)
            row = TrajectoryStepRow(
                trajectory_id=trajectory_id,
                step_index=index,
                step_type=step.step_type.value,
                tool_id=step.tool_id,
                input_data=step.input_data,
                output_data=step.output_data,
                llm_interaction=step.llm_interaction,
                performance_metrics=step.performance_metrics,
                execution_time=step.execution_time,
                success=step.success,
                error_type=step.error_type,
                timestamp=utcnow(),
            )
            session.add(row)
            await session.commit()
        return _step(row)

    async def ensure_running(self, trajectory_id: str) -> None:
        """Raise unless the run exists and is not finished (before work a step would record)."""
        async with self._sessions() as session:
            status = await session.scalar(
                select(TrajectoryRow.status).where(TrajectoryRow.trajectory_id == trajectory_id)
            )
            if status != "running":
                await self._refuse(session, trajectory_id)

    async def finish(
        self, trajectory_id: str, finish: TrajectoryFinish
    ) -> tuple[Trajectory, list[str]]:
        """Close the run and fold it into the tool metrics, atomically. Returns the run and the
        ids of the tools it used (whose learned state changed)."""
        for attempt in range(_WRITE_ATTEMPTS):
            async with self._sessions() as session:
                ended = utcnow()
                # Claim the run first: the conditional update makes a second finish a conflict
                # and (on SQLite) takes the write lock for the rest of the transaction.
                claimed = await session.execute(
                    update(TrajectoryRow)
                    .where(
                        TrajectoryRow.trajectory_id == trajectory_id,
                        TrajectoryRow.status == "running",
                    )
                    .values(
                        status="succeeded" if finish.success else "failed",
                        final_success=finish.success,
                        final_result=finish.result,
                        end_time=ended,
                    )
                )
                if claimed.rowcount == 0:  # type: ignore[attr-defined]
                    await self._refuse(session, trajectory_id)
                run = await session.get(TrajectoryRow, trajectory_id, populate_existing=True)
                assert run is not None
                if finish.scenario:
                    run.identified_scenario = finish.scenario
                run.total_execution_time = (ended - _aware(run.start_time)).total_seconds()
                steps = await self._steps(session, trajectory_id)
                tool_ids = await learn_from_run(session, run, steps)
                try:
                    await session.commit()
                except IntegrityError:  # another run created the same metrics row first
                    if attempt == _WRITE_ATTEMPTS - 1:
                        raise
                    continue
                return _trajectory(run), tool_ids
        raise AssertionError("unreachable")  # pragma: no cover

    async def get(self, trajectory_id: str) -> Trajectory:
        async with self._sessions() as session:
            run = await session.get(TrajectoryRow, trajectory_id)
            if run is None:
                raise _not_found(trajectory_id)
            steps = await self._steps(session, trajectory_id)
        trajectory = _trajectory(run)
        trajectory.steps = [_step(s) for s in steps]
        return trajectory

    async def list(
        self,
        *,
        limit: int = 50,
        scenario: str | None = None,
        success: bool | None = None,
        tool_id: str | None = None,
    ) -> list[Trajectory]:
        """Newest first; `tool_id` keeps runs that called that tool."""
        stmt = select(TrajectoryRow).order_by(TrajectoryRow.start_time.desc()).limit(limit)
        if scenario is not None:
            stmt = stmt.where(TrajectoryRow.identified_scenario == scenario)
        if success is not None:
            stmt = stmt.where(TrajectoryRow.final_success.is_(success))
        if tool_id is not None:
            used = select(TrajectoryStepRow.trajectory_id).where(
                TrajectoryStepRow.tool_id == tool_id
            )
            stmt = stmt.where(TrajectoryRow.trajectory_id.in_(used))
        async with self._sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [_trajectory(r) for r in rows]

    async def prune(self, older_than: timedelta) -> int:
        """Delete finished runs (and their steps) started before now - `older_than`. What they
        taught stays in the per-scenario tool metrics; their requests stop teaching discovery."""
        cutoff = utcnow() - older_than
        async with self._sessions() as session:
            old = select(TrajectoryRow.trajectory_id).where(
                TrajectoryRow.status != "running", TrajectoryRow.start_time < cutoff
            )
            ids = list((await session.scalars(old)).all())
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                await session.execute(
                    delete(TrajectoryStepRow).where(TrajectoryStepRow.trajectory_id.in_(chunk))
                )
                await session.execute(
                    delete(TrajectoryRow).where(TrajectoryRow.trajectory_id.in_(chunk))
                )
            await session.commit()
        return len(ids)

    async def count(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(TrajectoryRow)) or 0)

    @staticmethod
    async def _steps(session: AsyncSession, trajectory_id: str) -> Sequence[TrajectoryStepRow]:
        stmt = (
            select(TrajectoryStepRow)
            .where(TrajectoryStepRow.trajectory_id == trajectory_id)
            .order_by(TrajectoryStepRow.step_index)
        )
        return (await session.scalars(stmt)).all()

    @staticmethod
    async def _refuse(session: AsyncSession, trajectory_id: str) -> NoReturn:
        """Why a write to a run did not apply: it does not exist, or it is finished."""
        status = await session.scalar(
            select(TrajectoryRow.status).where(TrajectoryRow.trajectory_id == trajectory_id)
        )
        await session.rollback()
        if status is None:
            raise _not_found(trajectory_id)
        raise ConflictError(
            f"trajectory {trajectory_id} is already finished ({status})",
            hint="Start a new trajectory for a new run; finished ones are read-only.",
        )


def _not_found(trajectory_id: str) -> NotFoundError:
    return NotFoundError(
        f"no trajectory {trajectory_id!r}",
        hint="Start one with POST /api/v1/trajectories; list them with GET /api/v1/trajectories.",
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _trajectory(row: TrajectoryRow) -> Trajectory:
    return Trajectory(
        trajectory_id=row.trajectory_id,
        user_query=row.user_query,
        identified_scenario=row.identified_scenario,
        agent_version=row.agent_version,
        llm_model=row.llm_model,
        metadata=row.meta or {},
        status=row.status,  # type: ignore[arg-type]
        start_time=row.start_time,
        end_time=row.end_time,
        final_success=row.final_success,
        final_result=row.final_result,
        total_steps=row.total_steps,
        total_execution_time=row.total_execution_time,
    )


def _step(row: TrajectoryStepRow) -> TrajectoryStep:
    return TrajectoryStep(
        trajectory_id=row.trajectory_id,
        step_index=row.step_index,
        step_type=StepType(row.step_type),
        tool_id=row.tool_id,
        input_data=row.input_data or {},
        output_data=row.output_data or {},
        llm_interaction=row.llm_interaction,
        performance_metrics=row.performance_metrics,
        execution_time=row.execution_time,
        success=row.success,
        error_type=row.error_type,
        timestamp=row.timestamp,
    )
