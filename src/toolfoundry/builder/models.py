"""The typed inputs and outputs of the build stages.

Every stage takes and returns these models, so the build service can store them as JSON and the
LLM code generator of the next issue can feed the same stages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from pydantic import BaseModel, Field, StrictBool, computed_field, field_validator

ProgressCallback = Callable[[str], None]
"""Receives one human-readable log line per step of a stage."""

Severity = Literal["low", "medium", "high"]

REQUIRED_FILES = ("server.py", "requirements.txt", "test_server.py", "README.md")


class Example(BaseModel):
    """One expected behaviour: calling a tool on `input` returns `expected`."""

    input: dict[str, Any] | str
    expected: Any
    tool: str | None = None
    """The tool that should produce it; None means any tool of the server."""

    @classmethod
    def parse(cls, text: str) -> Example:
        """Parse the CLI form `IN=>OUT`; a JSON object before `=>` is taken as named arguments
        and JSON after it as a structured value, anything else stays a string."""
        if "=>" not in text:
            raise ValueError(f"example {text!r} is not of the form 'INPUT=>EXPECTED'")
        raw_in, raw_out = text.split("=>", 1)
        parsed_in: dict[str, Any] | str = raw_in
        if raw_in.lstrip().startswith("{"):
            try:
                value = json.loads(raw_in)
            except json.JSONDecodeError:
                value = None
            if isinstance(value, dict):
                parsed_in = value
        try:
            expected: Any = json.loads(raw_out)
        except json.JSONDecodeError:
            expected = raw_out
        return cls(input=parsed_in, expected=expected)


class BuildRequirement(BaseModel):
    """What a build must produce: a described capability, its dependencies and examples."""

    description: str = Field(min_length=1)
    technical_specs: list[str] = Field(default_factory=list)
    dependencies: list[str] = Field(default_factory=list)
    """PyPI requirement strings (`markdown`, `httpx>=0.27`); no URLs or paths."""
    examples: list[Example] = Field(default_factory=list)
    constraints: list[str] = Field(default_factory=list)
    network: StrictBool = False
    """Whether the built server may use the network at run time."""

    @field_validator("description")
    @classmethod
    def _description_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("description must not be blank")
        return value.strip()

    @field_validator("dependencies")
    @classmethod
    def _pypi_requirements(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                requirement = Requirement(value)
            except InvalidRequirement as exc:
                raise ValueError(f"dependency {value!r} is not a requirement: {exc}") from exc
            # A direct URL would install code from anywhere, outside the package index.
            if requirement.url:
                raise ValueError(f"dependency {value!r} must name a PyPI package, not a URL")
        return values

    @field_validator("examples", mode="before")
    @classmethod
    def _parse_cli_examples(cls, values: Any) -> Any:
        if isinstance(values, list):
            return [Example.parse(v) if isinstance(v, str) else v for v in values]
        return values


class GeneratedFiles(BaseModel):
    """The source of one MCP server: file name → text."""

    files: dict[str, str]

    @field_validator("files")
    @classmethod
    def _plain_names(cls, files: dict[str, str]) -> dict[str, str]:
        for name in files:
            # Files land in one flat directory; a path could escape it.
            if not name or "/" in name or "\\" in name or name in {".", ".."}:
                raise ValueError(f"file name {name!r} must be a plain name without directories")
        if "server.py" not in files:
            raise ValueError("server.py is required")
        return files

    @property
    def server(self) -> str:
        return self.files["server.py"]

    def write_to(self, directory: Path) -> list[Path]:
        """Write every file into `directory` (created readable for the sandbox's user)."""
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o755)
        written = []
        for name, text in self.files.items():
            path = directory / name
            path.write_text(text, encoding="utf-8")
            path.chmod(0o644)
            written.append(path)
        return written


class SecurityFinding(BaseModel):
    rule: str
    severity: Severity
    file: str
    line: int
    message: str
    source: Literal["ast", "bandit"]


class SecurityReport(BaseModel):
    findings: list[SecurityFinding] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        """High-severity findings fail the build."""
        return not any(f.severity == "high" for f in self.findings)

    def summary(self) -> str:
        if not self.findings:
            return "no findings"
        return "; ".join(
            f"{f.file}:{f.line} [{f.severity}] {f.rule}: {f.message}" for f in self.findings
        )


class ToolInfo(BaseModel):
    name: str
    description: str | None = None
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None


class SchemaProblem(BaseModel):
    tool: str
    message: str


class TestRunResult(BaseModel):
    """The generated tests, run with pytest inside the sandbox."""

    __test__ = False  # not a pytest test class despite the name

    passed: bool
    exit_code: int | None
    timed_out: bool = False
    output_tail: str = ""
    duration_s: float


class ExampleResult(BaseModel):
    tool: str | None
    input: dict[str, Any] | str
    expected: Any
    actual: Any = None
    passed: bool
    error: str | None = None


class ValidationReport(BaseModel):
    initialized: bool = False
    server_name: str | None = None
    tools: list[ToolInfo] = Field(default_factory=list)
    schema_problems: list[SchemaProblem] = Field(default_factory=list)
    tests: TestRunResult | None = None
    examples: list[ExampleResult] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    """Failures outside the checks above: start-up, timeouts, crashes (with stderr tail)."""
    duration_s: float = 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return (
            self.initialized
            and bool(self.tools)
            and not self.schema_problems
            and not self.errors
            and (self.tests is None or self.tests.passed)
            and all(e.passed for e in self.examples)
        )


class StageTiming(BaseModel):
    stage: str
    seconds: float
    detail: str | None = None
