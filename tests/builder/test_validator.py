"""The validator: a real server over stdio in the sandbox, and the ways a server can fail it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from toolfoundry.builder.models import BuildRequirement, GeneratedFiles
from toolfoundry.builder.stages.environment import EnvironmentResult
from toolfoundry.builder.stages.sandbox import BubblewrapSandbox
from toolfoundry.builder.stages.validator import (
    ValidationTimeouts,
    example_arguments,
    outputs_match,
    schema_problems,
    validate,
)

SERVER = '''\
import time

from fastmcp import FastMCP

mcp = FastMCP("checks")


@mcp.tool
def shout(text: str) -> str:
    """Upper-case the text."""
    return text.upper()


@mcp.tool
def stall(seconds: float) -> str:
    """Sleep, to exceed the call timeout."""
    time.sleep(seconds)
    return "done"


if __name__ == "__main__":
    mcp.run()
'''


def _server_dir(tmp_path: Path, source: str, tests: str | None = None) -> Path:
    files = {"server.py": source}
    if tests is not None:
        files["test_server.py"] = tests
    server_dir = tmp_path / "server"
    GeneratedFiles(files=files).write_to(server_dir)
    return server_dir


@pytest.mark.parametrize(
    ("expected", "actual", "match"),
    [
        ("<h1>Hi</h1>", "<h1>Hi</h1>\n", True),
        (5, "5", True),
        ({"a": [1, 2]}, '{"a": [1, 2]}', True),
        ({"a": 1}, {"a": 2}, False),
        ("x", "y", False),
    ],
)
def test_outputs_match(expected: object, actual: object, match: bool) -> None:
    assert outputs_match(expected, actual) is match


def test_string_example_goes_to_the_single_required_parameter() -> None:
    schema = {
        "type": "object",
        "properties": {"text": {"type": "string"}, "safe": {"type": "boolean"}},
        "required": ["text"],
    }
    assert example_arguments("# Hi", schema) == {"text": "# Hi"}
    with pytest.raises(ValueError, match="exactly one required parameter"):
        example_arguments("x", {"type": "object", "properties": {}, "required": ["a", "b"]})


def test_schema_problems() -> None:
    assert schema_problems("ok", {"type": "object", "properties": {}}, None) == []
    problems = schema_problems("bad", {"type": "array", "items": {"type": 5}}, None)
    assert {p.message.split(":")[0] for p in problems} == {
        "input schema",
        "input schema must have type 'object'",
    }


@pytest.mark.slow
async def test_valid_server_with_tests_and_examples(
    tmp_path: Path, build_env: EnvironmentResult, sandbox: BubblewrapSandbox
) -> None:
    tests = "from server import shout\n\n\ndef test_shout():\n    assert shout('a') == 'A'\n"
    server_dir = _server_dir(tmp_path, SERVER, tests)
    requirement = BuildRequirement(
        description="shout",
        examples=[
            {"input": "hi", "expected": "HI", "tool": "shout"},
            {"input": {"text": "x"}, "expected": "nope", "tool": "shout"},
        ],
    )
    lines: list[str] = []
    report = await validate(server_dir, build_env, sandbox, requirement, on_progress=lines.append)
    assert report.initialized and report.server_name == "checks"
    assert {t.name for t in report.tools} == {"shout", "stall"}
    assert report.schema_problems == []
    assert report.tests is not None and report.tests.passed, report.tests
    assert [e.passed for e in report.examples] == [True, False]
    assert report.examples[1].actual == "X"
    assert not report.passed  # the second example fails
    assert any("initialized" in line for line in lines)


@pytest.mark.slow
async def test_hanging_server_times_out_instead_of_hanging(
    tmp_path: Path,
    build_env: EnvironmentResult,
    sandbox: BubblewrapSandbox,
    processes_with: Callable[[str], list[int]],
) -> None:
    hang = "import time\n\ntime.sleep(3600)\n"
    server_dir = _server_dir(tmp_path, hang)
    started = time.monotonic()
    report = await validate(
        server_dir,
        build_env,
        sandbox,
        BuildRequirement(description="hangs"),
        timeouts=ValidationTimeouts(start=3),
    )
    assert time.monotonic() - started < 15
    assert not report.passed and not report.initialized
    assert "did not initialize: timed out" in report.errors[0]
    await asyncio.sleep(0.5)
    assert processes_with(str(server_dir)) == []


@pytest.mark.slow
async def test_tool_that_hangs_fails_its_example(
    tmp_path: Path, build_env: EnvironmentResult, sandbox: BubblewrapSandbox
) -> None:
    server_dir = _server_dir(tmp_path, SERVER)
    requirement = BuildRequirement(
        description="stall", examples=[{"input": {"seconds": 600}, "expected": "done"}]
    )
    report = await validate(
        server_dir, build_env, sandbox, requirement, timeouts=ValidationTimeouts(call=2)
    )
    assert report.initialized
    assert not report.passed
    assert "timed out" in (report.examples[0].error or "")


@pytest.mark.slow
async def test_crashing_server_reports_its_traceback(
    tmp_path: Path, build_env: EnvironmentResult, sandbox: BubblewrapSandbox
) -> None:
    server_dir = _server_dir(tmp_path, "raise RuntimeError('boom at import')\n")
    report = await validate(server_dir, build_env, sandbox, BuildRequirement(description="x"))
    assert not report.initialized
    assert "boom at import" in report.errors[0]


@pytest.mark.slow
async def test_cancelling_validation_kills_the_server(
    tmp_path: Path,
    build_env: EnvironmentResult,
    sandbox: BubblewrapSandbox,
    processes_with: Callable[[str], list[int]],
) -> None:
    server_dir = _server_dir(tmp_path, "import time\n\ntime.sleep(3600)\n")
    task = asyncio.create_task(
        validate(server_dir, build_env, sandbox, BuildRequirement(description="x"))
    )
    await asyncio.sleep(2)
    assert processes_with(str(server_dir))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.5)
    assert processes_with(str(server_dir)) == []
