"""Self-healing: what went wrong in an attempt, and which repair to ask the model for.

A failure is classified from the stage outputs (the environment's uv error class, the security
report, the validation report). Each error class has candidate strategies; they are tried in the
order of their recorded success rate, and every outcome is recorded, so the order learns. A
strategy "worked" when the next attempt passed or failed at a later stage than before.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, Field, field_validator

from toolfoundry.builder.errors import HEALABLE, BuildError, FailureKind, Phase
from toolfoundry.builder.models import ExampleResult, SecurityReport, ValidationReport
from toolfoundry.builder.stages.environment import EnvironmentBuildError
from toolfoundry.core import metrics

log = logging.getLogger(__name__)

# The healable kinds (`errors.HEALABLE`) have candidate strategies below.
StrategyName = Literal["pin_dependency", "replace_dependency", "fix_code", "simplify_interface"]

# How far an attempt got: a repair that moves a failure later has helped.
_PROGRESS: dict[FailureKind, int] = {
    FailureKind.SECURITY_FINDING: 0,
    FailureKind.DEPENDENCY_RESOLUTION: 1,
    FailureKind.SYNTAX_IMPORT: 2,
    FailureKind.RUNTIME_ERROR: 3,
    FailureKind.TIMEOUT: 3,
    FailureKind.TEST_FAILURE: 4,
}
_PASSED = 5

# Candidate strategies per class; on equal success rates the first is preferred.
CANDIDATES: dict[FailureKind, list[StrategyName]] = {
    FailureKind.DEPENDENCY_RESOLUTION: ["replace_dependency", "pin_dependency"],
    FailureKind.SYNTAX_IMPORT: ["fix_code", "replace_dependency"],
    FailureKind.TEST_FAILURE: ["fix_code", "simplify_interface"],
    FailureKind.RUNTIME_ERROR: ["fix_code", "simplify_interface"],
    FailureKind.TIMEOUT: ["simplify_interface", "fix_code"],
    FailureKind.SECURITY_FINDING: ["fix_code", "simplify_interface"],
}

INSTRUCTIONS: dict[StrategyName, str] = {
    "replace_dependency": (
        "A dependency cannot be installed. Replace it with a package that exists on PyPI and "
        "has wheels for Python 3.11, or with the Python standard library, and update "
        "requirements.txt and the imports to match."
    ),
    "pin_dependency": (
        "A dependency's versions conflict or have no wheel. Pin it in requirements.txt to a "
        "released version that installs on Python 3.11 (see the output for candidates), or relax "
        "a pin that is too strict."
    ),
    "fix_code": (
        "Fix the code at the cause the output points at (the traceback's last frame, the failing "
        "assertion, the flagged line). Keep the interface and the tests' intent."
    ),
    "simplify_interface": (
        "Simplify: fewer tools, plain JSON-friendly parameter and return types (str, int, float, "
        "bool, list, dict), no background work or waiting, and tests that only check the "
        "request's examples and one edge case."
    ),
}

_IMPORT_OR_SYNTAX = re.compile(
    r"\b(SyntaxError|IndentationError|TabError|ImportError|ModuleNotFoundError|NameError)\b"
)
_TIMEOUT = re.compile(r"timed out|timeout|exceeded", re.I)


class Failure(BaseModel):
    """The healer's diagnosis of one failed attempt (not raised: the loop goes on with a repair);
    `to_error()` is the `BuildError` the loop stops with when it cannot."""

    error_class: FailureKind
    """One of `HEALABLE`."""
    stage: Phase
    """Where it happened: syntax_check, security_scan, environment, validating."""
    summary: str
    output: str
    """The exact failing output the next prompt shows the model."""
    detail: str | None = None
    """A finer class, e.g. the environment's `dependency_not_found`."""

    @field_validator("error_class")
    @classmethod
    def _healable(cls, kind: FailureKind) -> FailureKind:
        if kind not in HEALABLE:
            raise ValueError(f"{kind} has no repair strategy; use one of {sorted(HEALABLE)}")
        return kind

    def to_error(self, message: str | None = None) -> BuildError:
        return BuildError(message or self.summary, phase=self.stage, kind=self.error_class)


def classify_environment(exc: EnvironmentBuildError) -> Failure:
    return Failure(
        error_class=FailureKind.TIMEOUT
        if exc.kind is FailureKind.TIMEOUT
        else FailureKind.DEPENDENCY_RESOLUTION,
        stage=Phase.ENVIRONMENT,
        summary=str(exc),
        output=f"{exc}\n\nuv output:\n{exc.stderr}".strip(),
        detail=exc.error_class,
    )


def classify_security(report: SecurityReport) -> Failure:
    high = [f for f in report.findings if f.severity == "high"]
    lines = [f"{f.file}:{f.line} [{f.severity}] {f.rule}: {f.message}" for f in high]
    return Failure(
        error_class=FailureKind.SECURITY_FINDING,
        stage=Phase.SECURITY_SCAN,
        summary=f"{len(high)} high-severity finding(s): " + "; ".join(lines[:3]),
        output="The security scan rejected the code (nothing was run):\n" + "\n".join(lines),
    )


def classify_syntax(file: str, exc: SyntaxError) -> Failure:
    where = f"{file}, line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
    text = f"\n    {exc.text.rstrip()}" if exc.text else ""
    return Failure(
        error_class=FailureKind.SYNTAX_IMPORT,
        stage=Phase.SYNTAX_CHECK,
        summary=f"{type(exc).__name__} in {where}: {exc.msg}",
        output=f'File "{where}{text}\n{type(exc).__name__}: {exc.msg}',
    )


def classify_validation(report: ValidationReport) -> Failure:
    """The first problem a repair should address, in the order the server meets them."""
    errors = "\n".join(report.errors)
    if not report.initialized or report.errors:
        if _IMPORT_OR_SYNTAX.search(errors):
            error_class: FailureKind = FailureKind.SYNTAX_IMPORT
        elif _TIMEOUT.search(errors) and not report.initialized:
            error_class = FailureKind.TIMEOUT
        else:
            error_class = FailureKind.RUNTIME_ERROR
        return Failure(
            error_class=error_class,
            stage=Phase.VALIDATING,
            summary=_first_line(errors) or "the server did not start",
            output=errors or "the server did not start",
        )
    if report.schema_problems:
        problems = "\n".join(f"{p.tool}: {p.message}" for p in report.schema_problems)
        return Failure(
            error_class=FailureKind.RUNTIME_ERROR,
            stage=Phase.VALIDATING,
            summary=f"invalid tool schemas: {_first_line(problems)}",
            output=f"The server's tool schemas are invalid:\n{problems}",
        )
    tests = report.tests
    failed = [e for e in report.examples if not e.passed]
    if tests is not None and not tests.passed:
        if tests.timed_out:
            error_class = FailureKind.TIMEOUT
        elif _IMPORT_OR_SYNTAX.search(tests.output_tail) and "passed" not in tests.output_tail:
            error_class = FailureKind.SYNTAX_IMPORT
        else:
            error_class = FailureKind.TEST_FAILURE
        output = f"pytest test_server.py (exit code {tests.exit_code}):\n{tests.output_tail}"
        if failed:
            output += "\n\n" + _examples_output(failed)
        return Failure(
            error_class=error_class,
            stage=Phase.VALIDATING,
            summary=f"generated tests failed: {_failure_line(tests.output_tail)}",
            output=output,
        )
    if failed:
        return Failure(
            error_class=FailureKind.TEST_FAILURE,
            stage=Phase.VALIDATING,
            summary=f"{len(failed)} example(s) not reproduced",
            output=_examples_output(failed),
        )
    return Failure(
        error_class=FailureKind.RUNTIME_ERROR,
        stage=Phase.VALIDATING,
        summary="validation failed: the server lists no tools",
        output="The server started but tools/list returned no tools.",
    )


def progress(failure: Failure | None) -> int:
    """How far an attempt got; None means it passed."""
    return _PASSED if failure is None else _PROGRESS[failure.error_class]


class StatsStore(Protocol):
    """Where success counts survive the process (the database, a file)."""

    def load(self) -> dict[str, list[int]]: ...

    def save(self, counts: dict[str, list[int]]) -> None: ...


class JsonStatsStore:
    """Counts in a JSON file: `{"strategy/error_class": [successes, attempts]}`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, list[int]]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def save(self, counts: dict[str, list[int]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(counts, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)


class StrategyRate(BaseModel):
    strategy: StrategyName
    error_class: FailureKind
    successes: int
    attempts: int

    @property
    def rate(self) -> float:
        """Laplace-smoothed, so an untried strategy (0.5) is neither trusted nor shunned."""
        return (self.successes + 1) / (self.attempts + 2)


class HealingStats:
    """Success counts per (strategy, error class); thread-safe, optionally persisted."""

    def __init__(self, store: StatsStore | None = None) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._counts: dict[str, list[int]] = {}
        if store is not None:
            try:
                self._counts = {k: list(v) for k, v in store.load().items()}
            except (OSError, ValueError) as exc:
                log.warning("healing stats could not be loaded (%s); starting empty", exc)

    def rate(self, strategy: StrategyName, error_class: FailureKind) -> StrategyRate:
        successes, attempts = self._counts.get(f"{strategy}/{error_class}", [0, 0])
        return StrategyRate(
            strategy=strategy, error_class=error_class, successes=successes, attempts=attempts
        )

    def record(self, strategy: StrategyName, error_class: FailureKind, success: bool) -> None:
        with self._lock:
            counts = self._counts.setdefault(f"{strategy}/{error_class}", [0, 0])
            counts[0] += int(success)
            counts[1] += 1
            snapshot = {k: list(v) for k, v in self._counts.items()}
        rate = self.rate(strategy, error_class)
        metrics.HEALING_ATTEMPTS.labels(
            strategy, error_class, "helped" if success else "no_help"
        ).inc()
        metrics.HEALING_SUCCESS_RATE.labels(strategy, error_class).set(
            rate.successes / rate.attempts
        )
        if self.store is not None:
            try:
                self.store.save(snapshot)
            except OSError as exc:
                log.warning("healing stats could not be saved: %s", exc)

    def snapshot(self) -> list[StrategyRate]:
        rates = []
        for key in sorted(self._counts):
            strategy, error_class = key.split("/", 1)
            rates.append(self.rate(strategy, error_class))  # type: ignore[arg-type]
        return rates


class HealPlan(BaseModel):
    """The repair the next generation is asked for."""

    failure: Failure
    strategy: StrategyName
    instruction: str
    ranking: list[tuple[StrategyName, float]] = Field(default_factory=list)
    """Candidates with their success rates, best first (the chosen one leads unless it was
    already tried on this class in this build)."""


class Healer:
    """Chooses a strategy for a failure and learns from the attempt that follows."""

    def __init__(self, stats: HealingStats | None = None) -> None:
        self.stats = stats or HealingStats()

    def plan(self, failure: Failure, tried: list[tuple[StrategyName, FailureKind]]) -> HealPlan:
        """The best-rated candidate for the failure's class; one already tried on this class in
        this build goes last, so a repair that did not help is not repeated first."""
        candidates = CANDIDATES[failure.error_class]
        rates = {s: self.stats.rate(s, failure.error_class).rate for s in candidates}
        ranked = sorted(
            candidates,
            key=lambda s: ((s, failure.error_class) in tried, -rates[s], candidates.index(s)),
        )
        strategy = ranked[0]
        return HealPlan(
            failure=failure,
            strategy=strategy,
            instruction=_instruction(strategy, failure),
            ranking=[(s, round(rates[s], 3)) for s in ranked],
        )

    def record(self, plan: HealPlan, outcome: Failure | None) -> bool:
        """Record whether the attempt after `plan` got further; returns that verdict."""
        helped = progress(outcome) > progress(plan.failure)
        self.stats.record(plan.strategy, plan.failure.error_class, helped)
        return helped


def _instruction(strategy: StrategyName, failure: Failure) -> str:
    text = INSTRUCTIONS[strategy]
    if failure.detail == "dependency_not_found":
        text += " The output names the package that does not exist on PyPI."
    if failure.error_class == "security_finding":
        text += " Remove every construct the scan flagged; the sandboxed server must not need it."
    return text


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:300]


def _failure_line(output: str) -> str:
    """pytest's most telling line: an `E` assertion line, else its summary line."""
    for line in output.splitlines():
        if line.startswith("E "):
            return line[1:].strip()[:300]
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def _examples_output(failed: list[ExampleResult]) -> str:
    lines = ["Examples of the request that the server did not reproduce (called over MCP):"]
    for e in failed:
        got = f"error {e.error}" if e.error else f"got {e.actual!r}"
        lines.append(f"- tool {e.tool} with {e.input!r}: expected {e.expected!r}, {got}")
    return "\n".join(lines)
