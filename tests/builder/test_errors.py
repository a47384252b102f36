"""The build error model: one `BuildError` with `Phase` and `FailureKind`, stored as the same
strings as before, and every phase (CodeReAct's too) has its place on the progress scale."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from toolfoundry.builder.errors import BuildError, FailureKind, Phase
from toolfoundry.builder.service.events import BuildEvents
from toolfoundry.builder.service.progress import PHASE_PROGRESS, LiveBuild, Progress
from toolfoundry.builder.service.queue import BuildRecord
from toolfoundry.builder.stages.environment import EnvironmentBuildError
from toolfoundry.builder.strategies.codereact.healing import Failure
from toolfoundry.core.errors import ToolfoundryError


def test_a_build_error_is_a_toolfoundry_error_with_stored_strings() -> None:
    error = BuildError("no server", phase="validating", kind="example_mismatch")
    assert isinstance(error, ToolfoundryError)
    assert error.phase is Phase.VALIDATING and error.kind is FailureKind.EXAMPLE_MISMATCH
    # Records and metrics see the plain strings they always stored.
    assert (str(error), error.message, f"{error.error_class}") == (
        "no server",
        "no server",
        "example_mismatch",
    )
    problem = error.to_problem()
    assert problem["code"] == "build_failed" and problem["failure_type"] == "example_mismatch"
    assert problem["phase"] == "validating"


def test_unknown_phase_or_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="compiling"):
        BuildError("x", phase="compiling", kind="internal")
    with pytest.raises(ValueError, match="oops"):
        BuildError("x", phase="starting", kind="oops")


def test_environment_errors_are_build_errors_in_the_environment_phase() -> None:
    error = EnvironmentBuildError("uv failed", error_class="no_wheel", stderr="…")
    assert isinstance(error, BuildError)
    assert (error.phase, error.error_class, error.stderr) == ("environment", "no_wheel", "…")


def test_the_healer_diagnoses_only_healable_kinds_and_stops_with_a_build_error() -> None:
    failure = Failure(error_class="test_failure", stage="validating", summary="s", output="o")
    error = failure.to_error()
    assert (error.phase, error.kind, error.message) == ("validating", "test_failure", "s")
    with pytest.raises(ValidationError, match="no repair strategy"):
        Failure(error_class="sandbox_unavailable", stage="starting", summary="s", output="o")


def test_every_phase_moves_the_progress_bar() -> None:
    assert set(PHASE_PROGRESS) == set(Phase)
    record = BuildRecord.model_construct(id="bld_1", logs=[])  # only its id is read
    progress = Progress(queue=None, events=BuildEvents())  # type: ignore[arg-type]
    live = LiveBuild(record=record)
    seen = []
    for phase in (Phase.ANALYSING, Phase.RESEARCHING, Phase.GENERATING):
        progress.phase(live, phase)
        seen.append(live.progress)
    # CodeReAct's own phases used to leave the bar where it was.
    assert seen == sorted(seen) and seen[0] > PHASE_PROGRESS[Phase.STARTING]
    assert live.phase == "generating"
