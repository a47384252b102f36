"""The CodeReAct loop (after Alita): a build strategy driven by a language model.

analyse → web agent → generate → syntax check → security scan → environment → validate; on
failure the attempt is classified, a healing strategy chosen, and the next generation sees the
previous files and the exact failing output. A server that passes is checked for abstraction
(parameters, not the example's values) and, while iterations remain, sent back once to fix that.
Every iteration's code, output and decision is kept and streamed. Nothing is registered here:
that is the build service's job once the attempt is returned.
"""

from __future__ import annotations

import ast
import shutil
import time
from dataclasses import dataclass, field
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from pydantic import ValidationError
from pydantic_ai.exceptions import ModelAPIError
from pydantic_ai.models import Model

from toolfoundry.builder.errors import BuildError, FailureKind, Phase
from toolfoundry.builder.models import (
    BuildRequirement,
    GeneratedFiles,
    ProgressCallback,
    SecurityReport,
    StageTiming,
    ValidationReport,
)
from toolfoundry.builder.stages.environment import EnvironmentBuildError, EnvironmentResult
from toolfoundry.builder.stages.workspace import BuildWorkspace
from toolfoundry.builder.strategies.base import BuildAttempt
from toolfoundry.builder.strategies.codereact.abstraction import (
    AbstractionReport,
    check_abstraction,
)
from toolfoundry.builder.strategies.codereact.codegen import (
    CodeGenerator,
    CodegenFormatError,
    functions_prompt,
    functions_repair_prompt,
    generation_prompt,
    repair_prompt,
)
from toolfoundry.builder.strategies.codereact.healing import (
    Failure,
    Healer,
    HealPlan,
    StrategyName,
    classify_environment,
    classify_security,
    classify_syntax,
    classify_validation,
    progress,
)
from toolfoundry.builder.strategies.codereact.requirements import (
    Specification,
    analyse,
    requirement_from_gap,
)
from toolfoundry.builder.strategies.codereact.results import (
    CodeReActIteration,
    HealingOutcome,
    LoopMetrics,
    LoopResult,
)
from toolfoundry.builder.strategies.codereact.web.agent import WebAgent, WebFindings
from toolfoundry.core import metrics
from toolfoundry.discovery.results import CapabilityGap

# Installed by the environment itself, at the versions the sandbox and validator expect.
_PROVIDED = frozenset({"fastmcp", "mcp", "pytest"})
# uv failures no rewrite of the code can fix.
_UNHEALABLE_ENVIRONMENT = frozenset({FailureKind.NETWORK, FailureKind.PYTHON_UNAVAILABLE})
_PARAMETERISE = (
    "The server passed, but it is not yet reusable. Fix exactly the points listed in the "
    "output: take values as parameters instead of copying them from the examples, annotate "
    "every parameter and return type, give every tool a docstring, and keep README.md. The "
    "tests keep using the examples."
)


@dataclass
class _Check:
    """The stages' verdict on one set of files."""

    failure: Failure | None
    security: SecurityReport | None = None
    validation: ValidationReport | None = None
    environment: EnvironmentResult | None = None
    dependencies: list[str] | None = None


@dataclass
class _Repair:
    """What the next prompt asks to repair."""

    error_class: str
    output: str
    strategy: str
    instruction: str
    plan: HealPlan | None = None
    """The healer's plan; None for the abstraction round, which is not a failure."""


@dataclass
class _Passed:
    files: GeneratedFiles
    check: _Check


@dataclass
class _Best:
    score: tuple[int, int]
    """(stage reached, examples reproduced)."""
    files: GeneratedFiles
    code: str | None
    repair: _Repair
    iteration: int


@dataclass
class _LoopState:
    requirement: BuildRequirement
    spec: Specification
    resources: str
    iterations: list[CodeReActIteration] = field(default_factory=list)
    previous: GeneratedFiles | None = None
    """The files of the last iteration, shown to the model in a repair round."""
    previous_code: str | None = None
    """The model's own code of the last iteration (the small contract)."""
    best: _Best | None = None
    """The failed attempt that got furthest: a worse one is not built upon."""
    seen: set[str] = field(default_factory=set)
    """Attempts already checked (normalised code): a repeat cannot do better."""
    contract: Literal["functions", "files"] = "functions"
    tried: list[tuple[StrategyName, FailureKind]] = field(default_factory=list)
    healing: list[HealingOutcome] = field(default_factory=list)
    environment: EnvironmentResult | None = None
    environment_for: list[str] | None = None
    """The dependencies `environment` was created with."""
    passed: _Passed | None = None
    """A server that passed but was sent back to be parameterised."""
    passed_at: int = 0
    abstraction_summary: str = ""
    chosen: _Passed | None = None
    abstraction: AbstractionReport | None = None
    last_failure: Failure | None = None


class CodeReActLoop:
    """One model, its helpers and the limits of a build; `run` is safe to call concurrently."""

    def __init__(
        self,
        model: Model,
        *,
        web_agent: WebAgent | None = None,
        healer: Healer | None = None,
        max_iterations: int = 5,
        format_retries: int = 2,
        timeout: float | None = None,
        contract: Literal["auto", "functions", "files"] = "auto",
        analysis: Literal["auto", "model", "fallback"] = "auto",
    ) -> None:
        """`timeout`: seconds for the whole loop; an iteration that would not fit is not begun
        (the build service's own timeout still bounds everything). `contract`: what the model
        writes — only the tool functions (the service renders server, requirements, tests and
        README around them) or all four files; `auto` asks for the functions when the request
        has examples to test them with, else for the files (the model's tests are the check).
        `analysis`: whether the model writes the specification; `auto` asks it only when the
        request has no examples to define it."""
        self.contract = contract
        self.analysis = analysis
        self.model = model
        self.web_agent = web_agent
        self.healer = healer or Healer()
        self.max_iterations = max_iterations
        self.generator = CodeGenerator(model, format_retries=format_retries)
        self.timeout = timeout
        self._counts = {"builds": 0, "success": 0, "first_try": 0}

    async def run(
        self,
        source: BuildRequirement | CapabilityGap,
        workspace: BuildWorkspace,
        on_progress: ProgressCallback,
    ) -> LoopResult:
        requirement = (
            source if isinstance(source, BuildRequirement) else requirement_from_gap(source)
        )
        started = time.monotonic()
        first_timing = len(workspace.timings)
        with workspace.phase(Phase.ANALYSING):
            spec = await analyse(source, self.model if self._model_analyses(requirement) else None)
        on_progress(f"specification ({spec.mode}): {spec.to_prompt()[:400]}")
        findings = await self._research(spec, workspace, on_progress)
        resources = findings.to_prompt() if findings else ""
        state = _LoopState(
            requirement=requirement,
            spec=spec,
            resources=resources,
            contract=self._contract(requirement),
        )
        result = LoopResult(
            success=False,
            specification=spec,
            web=findings,
            metrics=LoopMetrics(success=False, first_try=False, iterations=0, duration_s=0.0),
        )
        try:
            await self._iterate(state, workspace, on_progress, started)
        except BuildError as stop:
            result.error, result.error_class, result.phase = str(stop), stop.kind, stop.phase
        result.iterations = state.iterations
        if state.chosen is not None:
            result.success = True
            result.abstraction = state.abstraction
            check = state.chosen.check
            assert check.environment is not None
            result.attempt = BuildAttempt(
                files=state.chosen.files,
                environment=check.environment,
                security=check.security,
                validation=check.validation,
                iterations=list(state.iterations),
            )
        result.metrics = self._metrics(result, state, workspace.timings[first_timing:], started)
        return result

    def _contract(self, requirement: BuildRequirement) -> Literal["functions", "files"]:
        if self.contract == "auto":
            return "functions" if requirement.examples else "files"
        return self.contract

    def _model_analyses(self, requirement: BuildRequirement) -> bool:
        if self.analysis == "auto":
            # Examples already fix the function's shape; a small model's analysis of them costs
            # minutes and mostly fails validation.
            return not requirement.examples
        return self.analysis == "model"

    async def _research(
        self, spec: Specification, workspace: BuildWorkspace, on_progress: ProgressCallback
    ) -> WebFindings | None:
        if self.web_agent is None:
            return None
        with workspace.phase(Phase.RESEARCHING):
            findings = await self.web_agent.search(spec)
        for status in findings.providers:
            on_progress(
                f"web agent: {status.provider} "
                + (f"found {status.results}" if status.ok else f"skipped ({status.reason})")
            )
        return findings

    async def _iterate(
        self,
        state: _LoopState,
        workspace: BuildWorkspace,
        on_progress: ProgressCallback,
        started: float,
    ) -> None:
        repair: _Repair | None = None
        for number in range(1, self.max_iterations + 1):
            if self._out_of_time(number, state, started):
                return
            timing_mark = len(workspace.timings)
            iteration_started = time.monotonic()
            record = CodeReActIteration(
                number=number,
                strategy="llm",
                decision="",
                repair=repair.strategy if repair else None,
            )
            state.iterations.append(record)
            prompt = self._prompt(state, repair)
            try:
                with workspace.phase(Phase.GENERATING):
                    if state.contract == "functions":
                        generation = await self.generator.generate_functions(
                            prompt, state.requirement, repair=repair is not None
                        )
                    else:
                        generation = await self.generator.generate(
                            prompt, repair=repair is not None
                        )
            except ModelAPIError as exc:
                # The model server failed or timed out: no new code can come from it now.
                record.outcome, record.error_class = "failed", "model_unavailable"
                record.error = f"{type(exc).__name__}: {exc}"[:400]
                if state.passed is not None:
                    await self._restore(state.passed, state, workspace)
                    record.decision = self._kept(state, "the model stopped answering")
                    self._close(record, workspace, timing_mark, iteration_started, on_progress)
                    return
                record.decision = "stop: the model did not answer"
                self._close(record, workspace, timing_mark, iteration_started, on_progress)
                raise BuildError(
                    f"the model did not answer: {record.error}",
                    phase=Phase.GENERATING,
                    kind=FailureKind.MODEL_UNAVAILABLE,
                ) from exc
            except CodegenFormatError as exc:
                record.outcome, record.error_class = "malformed", "malformed_answer"
                record.error, record.output, record.answers = (
                    str(exc),
                    exc.answer[-4000:],
                    exc.attempts,
                )
                if state.passed is not None:
                    await self._restore(state.passed, state, workspace)
                    record.decision = self._kept(state, "its answers did not parse")
                    self._close(record, workspace, timing_mark, iteration_started, on_progress)
                    return
                record.decision = "stop: the model's answers did not parse within the retry budget"
                self._close(record, workspace, timing_mark, iteration_started, on_progress)
                raise BuildError(
                    str(exc), phase=Phase.GENERATING, kind=FailureKind.MALFORMED_ANSWER
                ) from exc
            files = state.previous = generation.files
            state.previous_code = generation.code
            record.code, record.files = files.files, sorted(files.files)
            record.answers = generation.answers
            fingerprint = _fingerprint(generation.code or files.server)
            if fingerprint in state.seen and state.passed is None:
                record.outcome, record.error_class = "failed", "repeated_attempt"
                record.error = "the model answered with code it had already tried"
                record.decision = "stop: a repeated attempt cannot do better"
                self._close(record, workspace, timing_mark, iteration_started, on_progress)
                raise BuildError(
                    "the model repeated an attempt that already failed"
                    + (f" ({state.last_failure.summary})" if state.last_failure else ""),
                    phase=Phase.GENERATING,
                    kind=state.last_failure.error_class
                    if state.last_failure
                    else FailureKind.REPEATED_ATTEMPT,
                )
            state.seen.add(fingerprint)
            check = await self._check(files, state, workspace, on_progress)
            helped = self._learn(repair, check, record, state)
            if check.failure is None:
                repair = self._accept(files, check, state, record, number)
                self._close(record, workspace, timing_mark, iteration_started, on_progress)
                if repair is None:
                    return
                continue
            failure = state.last_failure = check.failure
            record.outcome, record.error_class = "failed", failure.error_class
            record.error, record.output = failure.summary, failure.output
            if state.passed is not None:
                # The abstraction round broke the server: keep the one that worked, flagged.
                await self._restore(state.passed, state, workspace)
                record.decision = self._kept(state, f"it failed ({failure.error_class})")
                self._close(record, workspace, timing_mark, iteration_started, on_progress)
                return
            if failure.detail in _UNHEALABLE_ENVIRONMENT:
                record.decision = f"stop: {failure.detail} failures are not fixed by new code"
                self._close(record, workspace, timing_mark, iteration_started, on_progress)
                raise failure.to_error()
            plan = self.healer.plan(failure, state.tried)
            state.tried.append((plan.strategy, failure.error_class))
            repair = _Repair(
                error_class=failure.error_class,
                output=failure.output,
                strategy=plan.strategy,
                instruction=plan.instruction,
                plan=plan,
            )
            repair = self._build_on_best(state, check, files, repair, number)
            ranking = ", ".join(f"{name} {rate:.2f}" for name, rate in plan.ranking)
            verdict = ""
            if helped is not None:
                verdict = f" (the {record.repair} repair {'helped' if helped else 'did not help'})"
            record.decision = (
                f"{failure.error_class} at {failure.stage}{verdict}; "
                f"next: {plan.strategy} (success rates: {ranking})"
            )
            self._close(record, workspace, timing_mark, iteration_started, on_progress)
        # Only failures reach here: a passing server returns from inside the loop.
        last = state.last_failure
        assert last is not None
        raise BuildError(
            f"no working server after {self.max_iterations} iterations; the last failed at "
            f"{last.stage} with {last.error_class}: {last.summary}",
            phase=last.stage,
            kind=last.error_class,
        )

    @staticmethod
    def _build_on_best(
        state: _LoopState, check: _Check, files: GeneratedFiles, repair: _Repair, number: int
    ) -> _Repair:
        """Keep the best failed attempt: when this one got less far, the next round repairs the
        best one (shown with its own failure) instead of the worse."""
        assert check.failure is not None
        reproduced = sum(e.passed for e in check.validation.examples) if check.validation else 0
        score = (progress(check.failure), reproduced)
        best = state.best
        if best is None or score >= best.score:
            state.best = _Best(score, files, state.previous_code, repair, number)
            return repair
        state.previous, state.previous_code = best.files, best.code
        return _Repair(
            error_class=best.repair.error_class,
            output=best.repair.output,
            strategy=repair.strategy,
            instruction=f"{repair.instruction} (Your latest attempt got less far — it failed "
            f"with {check.failure.error_class}: {check.failure.summary[:200]} — so this is "
            f"the better attempt of iteration {best.iteration}; repair it.)",
            plan=repair.plan,
        )

    def _out_of_time(self, number: int, state: _LoopState, started: float) -> bool:
        """True when the next iteration would not fit the budget but a passing (flagged) server
        is at hand, which is then chosen; raises when there is none."""
        if self.timeout is None or number == 1:
            return False
        elapsed = time.monotonic() - started
        per_iteration = sum(i.duration_s for i in state.iterations) / len(state.iterations)
        if elapsed + per_iteration > self.timeout:
            if state.passed is not None:  # a flagged server beats none
                state.chosen = state.passed
                state.abstraction = check_abstraction(state.passed.files, state.requirement)
                return True
            raise BuildError(
                f"stopped before iteration {number}: {self.timeout - elapsed:.0f}s of the "
                f"{self.timeout:g}s budget left and an iteration takes about {per_iteration:.0f}s",
                phase=Phase.GENERATING,
                kind=FailureKind.TIMEOUT,
            )
        return False

    @staticmethod
    def _kept(state: _LoopState, why: str) -> str:
        return (
            f"the parameterised version is not usable ({why}); keeping the server of iteration "
            f"{state.passed_at}, flagged: {state.abstraction_summary}"
        )

    def _prompt(self, state: _LoopState, repair: _Repair | None) -> str:
        if state.contract == "functions":
            if repair is None or state.previous_code is None:
                return functions_prompt(state.requirement, state.resources)
            return functions_repair_prompt(
                state.requirement,
                previous_code=state.previous_code,
                error_class=repair.error_class,
                failing_output=repair.output,
                strategy=repair.strategy,
                instruction=repair.instruction,
                resources=state.resources,
            )
        if repair is None or state.previous is None:
            return generation_prompt(state.requirement, state.spec, state.resources)
        return repair_prompt(
            state.requirement,
            state.spec,
            previous=state.previous,
            iteration=len(state.iterations) - 1,
            error_class=repair.error_class,
            failing_output=repair.output,
            strategy=repair.strategy,
            instruction=repair.instruction,
            resources=state.resources,
        )

    def _learn(
        self,
        repair: _Repair | None,
        check: _Check,
        record: CodeReActIteration,
        state: _LoopState,
    ) -> bool | None:
        """Record whether the repair this iteration applied got further than the failure it
        answered."""
        if repair is None or repair.plan is None:
            return None
        helped = self.healer.record(repair.plan, check.failure)
        record.repair_helped = helped
        state.healing.append(
            HealingOutcome(strategy=repair.strategy, error_class=repair.error_class, helped=helped)
        )
        return helped

    def _accept(
        self,
        files: GeneratedFiles,
        check: _Check,
        state: _LoopState,
        record: CodeReActIteration,
        number: int,
    ) -> _Repair | None:
        """A passing server: chosen, or sent back once to be parameterised."""
        report = check_abstraction(files, state.requirement)
        passing = _Passed(files=files, check=check)
        record.outcome = "passed"
        if report.passed:
            state.chosen, state.abstraction = passing, report
            record.decision = "validated in the sandbox; parameterised, typed and documented"
            return None
        if state.passed is None and number < self.max_iterations:
            state.passed, state.passed_at = passing, number
            state.abstraction_summary = report.summary()
            record.output = report.to_prompt()
            record.decision = (
                f"validated, but not reusable yet ({report.summary()}); next: parameterise"
            )
            return _Repair(
                error_class=FailureKind.ABSTRACTION,
                output=report.to_prompt(),
                strategy="parameterise",
                instruction=_PARAMETERISE,
            )
        state.chosen, state.abstraction = passing, report
        record.outcome = "flagged"
        record.output = report.to_prompt()
        record.decision = f"validated; stored with abstraction flags: {report.summary()}"
        return None

    async def _restore(self, passed: _Passed, state: _LoopState, workspace: BuildWorkspace) -> None:
        """Put the earlier passing server back into the workspace (the service registers what
        is in `server_dir`), with its own environment."""
        check = passed.check
        if state.environment_for != check.dependencies:
            assert check.dependencies is not None
            check.environment = await workspace.create_environment(
                BuildRequirement(
                    description=state.requirement.description, dependencies=check.dependencies
                )
            )
            state.environment_for = check.dependencies
        _reset(workspace)
        passed.files.write_to(workspace.server_dir)
        state.chosen = passed
        state.abstraction = check_abstraction(passed.files, state.requirement)

    async def _check(
        self,
        files: GeneratedFiles,
        state: _LoopState,
        workspace: BuildWorkspace,
        on_progress: ProgressCallback,
    ) -> _Check:
        """syntax → security scan → environment → sandboxed validation; the first failure."""
        for name in ("server.py", "test_server.py"):
            try:
                ast.parse(files.files[name], filename=name)
            except SyntaxError as exc:
                return _Check(failure=classify_syntax(name, exc))
        security = workspace.scan(files)
        if not security.passed:
            return _Check(failure=classify_security(security), security=security)
        try:
            dependencies = _dependencies(files, state.requirement)
        except ValueError as exc:
            failure = Failure(
                error_class=FailureKind.DEPENDENCY_RESOLUTION,
                stage=Phase.ENVIRONMENT,
                summary=str(exc),
                output=f"{exc}\n\nrequirements.txt:\n{files.files.get('requirements.txt', '')}",
                detail="invalid_requirement",
            )
            return _Check(failure=failure, security=security)
        if state.environment is None or state.environment_for != dependencies:
            try:
                state.environment = await workspace.create_environment(
                    BuildRequirement(
                        description=state.requirement.description, dependencies=dependencies
                    )
                )
            except EnvironmentBuildError as exc:
                state.environment, state.environment_for = None, None
                return _Check(failure=classify_environment(exc), security=security)
            state.environment_for = dependencies
        else:
            on_progress(
                f"environment reused: dependencies unchanged ({', '.join(dependencies) or 'none'})"
            )
        _reset(workspace)
        validation = await workspace.validate(files, state.environment)
        return _Check(
            failure=None if validation.passed else classify_validation(validation),
            security=security,
            validation=validation,
            environment=state.environment,
            dependencies=dependencies,
        )

    def _close(
        self,
        record: CodeReActIteration,
        workspace: BuildWorkspace,
        timing_mark: int,
        started: float,
        on_progress: ProgressCallback,
    ) -> None:
        record.phases = workspace.timings[timing_mark:]
        record.duration_s = round(time.monotonic() - started, 3)
        summary = f"iteration {record.number}/{self.max_iterations}: {record.outcome}"
        if record.error_class:
            summary += f" ({record.error_class}: {record.error})"
        on_progress(summary[:400])
        on_progress(f"iteration {record.number} decision: {record.decision}"[:400])

    def _metrics(
        self,
        result: LoopResult,
        state: _LoopState,
        timings: list[StageTiming],
        started: float,
    ) -> LoopMetrics:
        phases: dict[str, float] = {}
        for timing in timings:
            phases[timing.stage] = round(phases.get(timing.stage, 0.0) + timing.seconds, 3)
            metrics.BUILD_PHASE_DURATION.labels(timing.stage).observe(timing.seconds)
        first = bool(state.iterations) and state.iterations[0].outcome in ("passed", "flagged")
        first_try = result.success and first
        self._counts["builds"] += 1
        self._counts["success"] += int(result.success)
        self._counts["first_try"] += int(first_try)
        metrics.CODEREACT_BUILDS.labels(
            "success" if result.success else "failed", str(first_try).lower()
        ).inc()
        metrics.CODEREACT_SUCCESS_RATE.set(self._counts["success"] / self._counts["builds"])
        metrics.CODEREACT_FIRST_TRY_SUCCESS_RATE.set(
            self._counts["first_try"] / self._counts["builds"]
        )
        metrics.CODEREACT_ITERATIONS.observe(len(state.iterations))
        return LoopMetrics(
            success=result.success,
            first_try=first_try,
            iterations=len(state.iterations),
            duration_s=round(time.monotonic() - started, 3),
            phase_seconds=phases,
            healing=state.healing,
            strategy_rates={
                f"{r.strategy}/{r.error_class}": round(r.successes / r.attempts, 3)
                for r in self.healer.stats.snapshot()
                if r.attempts
            },
        )


def _dependencies(files: GeneratedFiles, requirement: BuildRequirement) -> list[str]:
    """requirements.txt's packages plus the request's own, minus what the environment provides;
    `ValueError` names a line that is not a plain PyPI requirement."""
    found: dict[str, str] = {}
    text = files.files.get("requirements.txt", "")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            parsed = Requirement(line)
        except InvalidRequirement as exc:
            raise ValueError(
                f"requirements.txt line {number} ({line!r}) is not a PyPI requirement: {exc}"
            ) from exc
        if parsed.url:
            raise ValueError(
                f"requirements.txt line {number} ({line!r}) names a URL; use a PyPI package"
            )
        name = canonicalize_name(parsed.name)
        if name not in _PROVIDED:
            found.setdefault(name, line)
    for dependency in requirement.dependencies:
        found.setdefault(canonicalize_name(Requirement(dependency).name), dependency)
    deps = sorted(found.values())
    try:
        BuildRequirement(description="dependencies", dependencies=deps)
    except ValidationError as exc:
        raise ValueError(str(exc)) from exc
    return deps


def _fingerprint(code: str) -> str:
    """Code up to formatting and comments."""
    try:
        return ast.dump(ast.parse(code))
    except SyntaxError:
        return " ".join(code.split())


def _reset(workspace: BuildWorkspace) -> None:
    """Empty the server and work directories: no file of an earlier iteration may linger."""
    shutil.rmtree(workspace.server_dir, ignore_errors=True)
    shutil.rmtree(workspace.work_dir, ignore_errors=True)
