"""Proves a built server works: started over stdio inside the sandbox, exactly as it will run.

Checks the MCP handshake, a non-empty tool list with valid JSON schemas, the generated tests
(pytest in the sandbox) and the requirement's examples. Every step has a timeout, so a server
that hangs fails validation instead of hanging the build.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from jsonschema import Draft202012Validator, SchemaError
from pydantic import BaseModel, Field

from toolfoundry.builder import coercion
from toolfoundry.builder.models import (
    BuildRequirement,
    Example,
    ExampleResult,
    ProgressCallback,
    SchemaProblem,
    TestRunResult,
    ToolInfo,
    ValidationReport,
)
from toolfoundry.builder.stages.environment import EnvironmentResult
from toolfoundry.builder.stages.sandbox import ResourceLimits, Sandbox, SandboxSpec

_TAIL_CHARS = 4000


class ValidationTimeouts(BaseModel):
    start: float = Field(default=30.0, gt=0)
    """Server start-up plus MCP initialize."""
    call: float = Field(default=20.0, gt=0)
    """Each MCP request (tools/list, one tool call)."""
    tests: float = Field(default=120.0, gt=0)
    total: float = Field(default=240.0, gt=0)


async def validate(
    server_dir: Path,
    env: EnvironmentResult,
    sandbox: Sandbox,
    requirement: BuildRequirement,
    *,
    work_dir: Path | None = None,
    limits: ResourceLimits | None = None,
    timeouts: ValidationTimeouts | None = None,
    on_progress: ProgressCallback | None = None,
) -> ValidationReport:
    """Validate the server in `server_dir` (its `server.py`, and `test_server.py` if present)."""
    timeouts = timeouts or ValidationTimeouts()
    work_dir = work_dir or server_dir.parent / "work"
    spec = env.sandbox_spec(server_dir, work_dir, network=requirement.network, limits=limits)
    report = ValidationReport()
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeouts.total):
            await _check_server(
                server_dir, env, sandbox, spec, requirement, timeouts, report, on_progress
            )
            if (server_dir / "test_server.py").exists():
                _emit(on_progress, "running the generated tests in the sandbox")
                report.tests = await _run_tests(server_dir, env, sandbox, spec, timeouts)
                _emit(
                    on_progress, f"generated tests {'passed' if report.tests.passed else 'FAILED'}"
                )
    except TimeoutError:
        report.errors.append(f"validation exceeded its total timeout of {timeouts.total:.0f}s")
    report.duration_s = time.monotonic() - started
    _emit(on_progress, f"validation {'passed' if report.passed else 'failed'}")
    return report


async def _check_server(
    server_dir: Path,
    env: EnvironmentResult,
    sandbox: Sandbox,
    spec: SandboxSpec,
    requirement: BuildRequirement,
    timeouts: ValidationTimeouts,
    report: ValidationReport,
    on_progress: ProgressCallback | None,
) -> None:
    sandbox.prepare(spec)
    command = [*sandbox.command_prefix(spec), *env.server_argv(server_dir)]
    # The server's stderr goes to a file so a crash can be reported with its traceback.
    with tempfile.TemporaryFile(mode="w+", prefix="tf-server-stderr-") as stderr:
        transport = StdioTransport(
            command=command[0], args=command[1:], keep_alive=False, log_file=stderr
        )
        client = Client(transport, timeout=timeouts.call, init_timeout=timeouts.start)
        _emit(on_progress, f"starting the server in the {sandbox.name} sandbox")
        # Leaving the stack closes the client, which kills the server's process group.
        async with contextlib.AsyncExitStack() as stack:
            try:
                async with asyncio.timeout(timeouts.start):
                    await stack.enter_async_context(client)
            except Exception as exc:
                report.errors.append(f"server did not initialize: {_describe(exc)}{_tail(stderr)}")
                return
            report.initialized = True
            report.server_name = client.server_info.name if client.server_info else None
            _emit(on_progress, f"initialized {report.server_name or 'server'}; listing tools")
            try:
                await _list_tools(client, timeouts, report)
                for example in requirement.examples:
                    result = await _run_example(client, example, report.tools, timeouts)
                    report.examples.append(result)
                    verdict = (
                        "ok" if result.passed else f"FAILED ({result.error or result.actual!r})"
                    )
                    _emit(on_progress, f"example {example.input!r} → {verdict}")
            except Exception as exc:
                report.errors.append(f"server failed: {_describe(exc)}{_tail(stderr)}")


async def _list_tools(
    client: Client, timeouts: ValidationTimeouts, report: ValidationReport
) -> None:
    async with asyncio.timeout(timeouts.call):
        tools = await client.list_tools()
    if not tools:
        report.errors.append("the server lists no tools")
    for tool in tools:
        report.tools.append(
            ToolInfo(
                name=tool.name,
                description=tool.description,
                input_schema=tool.input_schema,
                output_schema=tool.output_schema,
            )
        )
        report.schema_problems += schema_problems(tool.name, tool.input_schema, tool.output_schema)


def schema_problems(
    tool: str, input_schema: dict[str, Any], output_schema: dict[str, Any] | None
) -> list[SchemaProblem]:
    """Draft 2020-12 meta-schema checks; MCP also requires an object-typed input schema."""
    problems = []
    for label, schema in (("input", input_schema), ("output", output_schema)):
        if schema is None:
            continue
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            problems.append(SchemaProblem(tool=tool, message=f"{label} schema: {exc.message}"))
    if input_schema.get("type") != "object":
        problems.append(SchemaProblem(tool=tool, message="input schema must have type 'object'"))
    return problems


async def _run_example(
    client: Client, example: Example, tools: list[ToolInfo], timeouts: ValidationTimeouts
) -> ExampleResult:
    candidates = [t for t in tools if example.tool in (None, t.name)]
    if not candidates:
        return ExampleResult(
            tool=example.tool,
            input=example.input,
            expected=example.expected,
            passed=False,
            error=f"no tool named {example.tool!r}",
        )
    # Without a named tool the example passes when any tool reproduces it.
    result: ExampleResult | None = None
    for tool in candidates:
        result = await _call_example(client, tool, example, timeouts)
        if result.passed:
            return result
    assert result is not None
    return result


async def _call_example(
    client: Client, tool: ToolInfo, example: Example, timeouts: ValidationTimeouts
) -> ExampleResult:
    outcome = ExampleResult(
        tool=tool.name, input=example.input, expected=example.expected, passed=False
    )
    try:
        arguments = example_arguments(example.input, tool.input_schema)
    except ValueError as exc:
        outcome.error = str(exc)
        return outcome
    try:
        async with asyncio.timeout(timeouts.call):
            result = await client.call_tool(tool.name, arguments, raise_on_error=False)
    except TimeoutError:
        outcome.error = f"tool call timed out after {timeouts.call:.0f}s"
        return outcome
    text = "".join(getattr(block, "text", "") for block in result.content)
    if result.is_error:
        outcome.error = text or "tool reported an error"
        return outcome
    outcome.actual = result.data if result.data is not None else text
    outcome.passed = outputs_match(example.expected, outcome.actual)
    return outcome


def example_arguments(value: dict[str, Any] | str, input_schema: dict[str, Any]) -> dict[str, Any]:
    """Named arguments pass through; a string goes to the tool's one required parameter (or its
    only parameter), converted to the type it declares (`"1990"` → 1990 for an integer)."""
    properties: dict[str, Any] = input_schema.get("properties", {})
    if isinstance(value, dict):
        names = list(properties)
        if value and not set(value) & set(names) and len(value) <= len(names):
            # None of the example's names is the tool's: bound in order, as the package
            # wrapper's probe bound them (`{"a": …, "b": …}` → `s1`, `s2`).
            return dict(zip(names, value.values(), strict=False))
        return value
    required = input_schema.get("required", [])
    if len(required) == 1:
        name = required[0]
    elif not required and len(properties) == 1:
        name = next(iter(properties))
    else:
        raise ValueError(
            "a string example needs a tool with exactly one required parameter; "
            f"this tool requires {required or 'nothing'}"
        )
    return {name: coercion.for_schema(value, properties.get(name, {}))}


def outputs_match(expected: Any, actual: Any) -> bool:
    """Strings compare with surrounding whitespace stripped, structures as JSON values; a JSON
    string on one side is parsed before comparing with a structure on the other."""
    return _normalise(expected) == _normalise(actual)


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        stripped = value.strip()
        try:
            parsed = json.loads(stripped)
        except ValueError:
            return stripped
        return parsed if not isinstance(parsed, str) else parsed.strip()
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    try:
        return json.loads(json.dumps(value, default=_to_jsonable))
    except (TypeError, ValueError):
        return str(value)


def _to_jsonable(value: Any) -> Any:
    if hasattr(value, "__dict__"):
        return vars(value)
    return str(value)


async def _run_tests(
    server_dir: Path,
    env: EnvironmentResult,
    sandbox: Sandbox,
    spec: SandboxSpec,
    timeouts: ValidationTimeouts,
) -> TestRunResult:
    argv = [
        str(env.python),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(server_dir),
        str(server_dir / "test_server.py"),
    ]
    run = await sandbox.run(argv, spec, timeout=timeouts.tests)
    output = (run.stdout + run.stderr)[-_TAIL_CHARS:]
    if run.timed_out:
        output += f"\n[killed: the tests exceeded {timeouts.tests:.0f}s]"
    return TestRunResult(
        passed=run.ok,
        exit_code=run.returncode,
        timed_out=run.timed_out,
        output_tail=output,
        duration_s=run.duration_s,
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _tail(stderr: Any) -> str:
    stderr.flush()
    stderr.seek(0)
    text = stderr.read()[-_TAIL_CHARS:].strip()
    return f"\nserver stderr:\n{text}" if text else ""


def _emit(on_progress: ProgressCallback | None, line: str) -> None:
    if on_progress is not None:
        on_progress(line)
