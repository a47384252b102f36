"""Failure classification from the stage outputs, strategy ordering and recorded success rates;
abstraction checks and near-duplicate detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolfoundry.builder.models import (
    BuildRequirement,
    ExampleResult,
    GeneratedFiles,
    SchemaProblem,
    SecurityFinding,
    SecurityReport,
    TestRunResult,
    ValidationReport,
)
from toolfoundry.builder.stages.environment import EnvironmentBuildError
from toolfoundry.builder.strategies.codereact.abstraction import (
    check_abstraction,
    find_near_duplicates,
    interface_similarity,
)
from toolfoundry.builder.strategies.codereact.healing import (
    Failure,
    Healer,
    HealingStats,
    JsonStatsStore,
    classify_environment,
    classify_security,
    classify_syntax,
    classify_validation,
)


def _validation(**values: object) -> ValidationReport:
    base: dict[str, object] = {
        "initialized": True,
        "tools": [{"name": "t", "input_schema": {"type": "object"}}],
    }
    return ValidationReport.model_validate({**base, **values})


def _tests(output: str, *, timed_out: bool = False) -> TestRunResult:
    return TestRunResult(
        passed=False, exit_code=1, timed_out=timed_out, output_tail=output, duration_s=1
    )


@pytest.mark.parametrize(
    ("report", "error_class"),
    [
        (_validation(initialized=False, errors=["init: ModuleNotFoundError"]), "syntax_import"),
        (_validation(initialized=False, errors=["init: timed out"]), "timeout"),
        (_validation(errors=["server failed: ZeroDivisionError"]), "runtime_error"),
        (_validation(schema_problems=[SchemaProblem(tool="t", message="bad")]), "runtime_error"),
        (_validation(tests=_tests("E   assert 1 == 2\n1 failed")), "test_failure"),
        (_validation(tests=_tests("ImportError while importing test module")), "syntax_import"),
        (_validation(tests=_tests("", timed_out=True)), "timeout"),
        (
            _validation(examples=[ExampleResult(tool="t", input="a", expected="b", passed=False)]),
            "test_failure",
        ),
    ],
    ids=["import", "start-timeout", "crash", "schema", "test", "test-import", "test-timeout",
         "example"],
)  # fmt: skip
def test_validation_failures_are_classified(report: ValidationReport, error_class: str) -> None:
    failure = classify_validation(report)
    assert failure.error_class == error_class and failure.stage == "validating"
    assert failure.output


def test_the_failing_output_is_kept_verbatim() -> None:
    tail = "def test_add():\n>       assert add(2, 3) == 5\nE       assert -1 == 5\n1 failed"
    failure = classify_validation(
        _validation(
            tests=_tests(tail),
            examples=[
                ExampleResult(tool="add", input={"a": 2}, expected=5, actual=-1, passed=False)
            ],
        )
    )
    assert tail in failure.output and "expected 5, got -1" in failure.output
    assert failure.summary == "generated tests failed: assert -1 == 5"


def test_environment_security_and_syntax_failures() -> None:
    env = classify_environment(
        EnvironmentBuildError(
            "uv pip install failed (dependency_not_found): nope",
            error_class="dependency_not_found",
            stderr="× No solution found: nope was not found in the package registry",
        )
    )
    assert (env.error_class, env.detail, env.stage) == (
        "dependency_resolution",
        "dependency_not_found",
        "environment",
    )
    assert "was not found in the package registry" in env.output
    uv_timeout = EnvironmentBuildError("uv timed out", error_class="timeout")
    assert classify_environment(uv_timeout).error_class == "timeout"
    security = classify_security(
        SecurityReport(
            findings=[
                SecurityFinding(
                    rule="process",
                    severity="high",
                    file="server.py",
                    line=3,
                    message="runs a command",
                    source="ast",
                ),
                SecurityFinding(
                    rule="x", severity="low", file="server.py", line=9, message="meh", source="ast"
                ),
            ]
        )
    )
    assert security.error_class == "security_finding"
    assert "server.py:3 [high] process: runs a command" in security.output
    assert "meh" not in security.output
    try:
        compile("def f(:\n", "server.py", "exec")
    except SyntaxError as exc:
        syntax = classify_syntax("server.py", exc)
    assert syntax.error_class == "syntax_import" and "server.py, line 1" in syntax.output


def _failure(error_class: str) -> Failure:
    return Failure(error_class=error_class, stage="validating", summary="s", output="o")  # type: ignore[arg-type]


def test_strategies_are_ordered_by_recorded_success_rate(tmp_path: Path) -> None:
    healer = Healer(HealingStats(JsonStatsStore(tmp_path / "stats.json")))
    # No history: the class's default order.
    assert healer.plan(_failure("test_failure"), []).strategy == "fix_code"
    for _ in range(3):
        healer.stats.record("fix_code", "test_failure", False)
    healer.stats.record("simplify_interface", "test_failure", True)
    plan = healer.plan(_failure("test_failure"), [])
    assert plan.strategy == "simplify_interface"
    assert [s for s, _ in plan.ranking] == ["simplify_interface", "fix_code"]
    assert plan.ranking[0][1] == pytest.approx(2 / 3, abs=1e-3)
    # A strategy already tried on this class in this build goes last.
    tried = [("simplify_interface", "test_failure")]
    assert healer.plan(_failure("test_failure"), tried).strategy == "fix_code"  # type: ignore[arg-type]
    # The counts survive a new process through the store.
    again = HealingStats(JsonStatsStore(tmp_path / "stats.json"))
    assert again.rate("fix_code", "test_failure").attempts == 3
    assert {(r.strategy, r.successes) for r in again.snapshot()} == {
        ("fix_code", 0),
        ("simplify_interface", 1),
    }


def test_a_repair_helped_when_the_next_attempt_got_further() -> None:
    healer = Healer()
    plan = healer.plan(_failure("dependency_resolution"), [])
    assert plan.strategy == "replace_dependency"
    assert healer.record(plan, _failure("test_failure")) is True  # later stage: progress
    plan = healer.plan(_failure("test_failure"), [])
    assert healer.record(plan, _failure("syntax_import")) is False  # earlier stage: worse
    assert healer.record(plan, None) is True  # passed
    assert healer.stats.rate("fix_code", "test_failure").successes == 1


HARDCODED = '''
"""Greets."""
from fastmcp import FastMCP

mcp = FastMCP("greeter")
CITY = "Paris"


@mcp.tool
def greet(name):
    return "Hello, Ada!"


@mcp.tool
def forecast(city: str = "Paris") -> str:
    """Forecast for a city."""
    return f"sunny in {city}"


if __name__ == "__main__":
    mcp.run()
'''
CLEAN = '''
from fastmcp import FastMCP

mcp = FastMCP("greeter")


@mcp.tool
def greet(name: str) -> str:
    """Greet someone by name.

    Args:
        name: Who to greet.
    """
    return f"Hello, {name}!"
'''


def _files(server: str, readme: str = "# Greeter\n") -> GeneratedFiles:
    return GeneratedFiles(files={"server.py": server, "README.md": readme})


def test_abstraction_flags_values_from_the_examples_and_a_loose_interface() -> None:
    requirement = BuildRequirement(
        description="Greet",
        examples=['{"name": "Ada"}=>"Hello, Ada!"', '{"city": "Paris"}=>"sunny in Paris"'],
    )
    report = check_abstraction(_files(HARDCODED, readme=""), requirement)
    kinds = sorted(f.kind for f in report.findings)
    assert kinds == [
        "hardcoded_value",
        "hardcoded_value",
        "hardcoded_value",
        "missing_docstring",
        "missing_readme",
        "missing_return_type",
        "untyped_parameter",
    ]
    lines = {f.line for f in report.findings if f.kind == "hardcoded_value"}
    assert lines == {6, 11, 15}  # CITY, the canned answer, the default value
    assert "'Hello, Ada!'" in report.to_prompt()
    assert check_abstraction(_files(CLEAN), requirement).passed


def test_near_duplicates_compare_tool_interfaces() -> None:
    renamed = CLEAN.replace('"greeter"', '"hello"').replace("Who to greet", "The person")
    other = CLEAN.replace("def greet(name: str)", "def area(width: float, height: float)")
    assert interface_similarity(CLEAN, renamed) > 0.8
    assert interface_similarity(CLEAN, other) < 0.6
    found = find_near_duplicates(
        _files(CLEAN),
        {"mcp_a": renamed, "mcp_b": other, "mcp_c": "def broken(:"},
    )
    assert [asset for asset, _ in found] == ["mcp_a"]
