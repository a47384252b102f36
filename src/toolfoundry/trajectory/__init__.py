"""Step-level trajectories of agent runs, and what the library learns from them."""

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
from toolfoundry.trajectory.run import TrajectoryRun

__all__ = [
    "StepInput",
    "StepType",
    "ToolCombination",
    "ToolInsights",
    "Trajectory",
    "TrajectoryFinish",
    "TrajectoryRun",
    "TrajectoryStart",
    "TrajectoryStep",
]
