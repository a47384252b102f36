"""The no-model strategy: wrap a package's own functions, offline, checked by the examples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from toolfoundry.builder.models import BuildRequirement
from toolfoundry.builder.stages.environment import EnvironmentResult
from toolfoundry.builder.stages.sandbox import BubblewrapSandbox
from toolfoundry.builder.stages.scanner import scan
from toolfoundry.builder.stages.validator import validate
from toolfoundry.builder.strategies.wrap.introspect import _json_type, import_names, introspect
from toolfoundry.builder.strategies.wrap.models import Candidate, PackageWrapError
from toolfoundry.builder.strategies.wrap.rank import rank
from toolfoundry.builder.strategies.wrap.wrapper import PackageWrapper


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        ("str", "str"),
        ("Optional[int]", "int | None"),
        ("typing.List[str]", "list[str]"),
        ("Sequence[float]", "list[float]"),
        ("Mapping[str, int]", "dict[str, int]"),
        ("str | None", "str | None"),
        ("'bool'", "bool"),
        ("Markdown", None),
        ("dict[int, str]", None),
        ("Callable[[str], str]", None),
    ],
)
def test_annotations_become_json_friendly_types(annotation: str, expected: str | None) -> None:
    assert _json_type(annotation) == expected


def test_introspects_markdown_statically(build_env: EnvironmentResult) -> None:
    assert import_names("Markdown", build_env.site_packages) == ["markdown"]
    candidates = {c.path: c for c in introspect("markdown", build_env.site_packages)}
    markdown = candidates["markdown.markdown"]  # the re-export wins over markdown.core.markdown
    assert "markdown.core.markdown" not in candidates
    assert [(p.name, p.annotation, p.required) for p in markdown.parameters] == [
        ("text", "str", True)  # **kwargs skipped
    ]
    assert markdown.returns == "str"
    assert markdown.summary.startswith("Convert a markdown string to HTML")


def test_ranking_by_token_overlap_and_embedding() -> None:
    requirement = BuildRequirement(description="Convert Markdown text to HTML")
    candidates = [
        Candidate(path="pkg.parse_yaml", module="pkg", name="parse_yaml", summary="Parse YAML."),
        Candidate(
            path="pkg.markdown_to_html",
            module="pkg",
            name="markdown_to_html",
            summary="Render Markdown as HTML.",
        ),
    ]
    assert rank(candidates, requirement)[0].name == "markdown_to_html"

    def embed(texts: list[str]) -> np.ndarray:
        # Query and the YAML function point the same way: the embedding now decides.
        return np.array(
            [[1.0, 0.0] if "yaml" in t.lower() or "Convert" in t else [0.0, 1.0] for t in texts]
        )

    assert rank(candidates, requirement, embed=embed)[0].name == "parse_yaml"


@pytest.mark.slow
async def test_markdown_build_end_to_end(
    tmp_path: Path,
    build_env: EnvironmentResult,
    sandbox: BubblewrapSandbox,
    markdown_requirement: BuildRequirement,
) -> None:
    lines: list[str] = []
    result = await PackageWrapper().build(
        markdown_requirement, build_env, sandbox, tmp_path, on_progress=lines.append
    )
    assert [t.candidate.path for t in result.tools] == ["markdown.markdown"]
    assert result.tools[0].examples == [0]
    assert any(p.passed and p.candidate == "markdown.markdown" for p in result.probes)
    assert set(result.files.files) == {
        "server.py",
        "requirements.txt",
        "test_server.py",
        "README.md",
    }
    assert "markdown" in result.files.files["requirements.txt"]

    security = scan(result.files.files)
    assert security.passed, security.summary()
    assert all(f.severity == "low" for f in security.findings)  # asserts in the tests

    server_dir = tmp_path / "server"
    result.files.write_to(server_dir)
    report = await validate(server_dir, build_env, sandbox, markdown_requirement)
    assert report.passed, report.model_dump_json(indent=1)
    assert report.tests is not None and "2 passed" in report.tests.output_tail
    assert report.examples[0].actual == "<h1>Hi</h1>"
    assert report.tools[0].input_schema["properties"]["text"]["type"] == "string"
    assert any("wrapping markdown.markdown" in line for line in lines)


@pytest.mark.slow
async def test_examples_no_function_reproduces_fail_the_strategy(
    tmp_path: Path, build_env: EnvironmentResult, sandbox: BubblewrapSandbox
) -> None:
    requirement = BuildRequirement(
        description="Convert Markdown text to HTML",
        dependencies=["markdown"],
        examples=["# Hi=><h2>Not what markdown does</h2>"],
    )
    with pytest.raises(PackageWrapError, match="no function reproduces the examples"):
        await PackageWrapper().build(requirement, build_env, sandbox, tmp_path)


async def test_requirement_without_dependency_is_refused(
    tmp_path: Path, build_env: EnvironmentResult, sandbox: BubblewrapSandbox
) -> None:
    with pytest.raises(PackageWrapError, match="needs a dependency"):
        await PackageWrapper().build(
            BuildRequirement(description="x"), build_env, sandbox, tmp_path
        )
