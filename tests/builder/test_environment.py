"""Build venvs: uv's failures classified so a healer can act on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolfoundry.builder import (
    BuildEnvironment,
    BuildRequirement,
    EnvironmentBuildError,
    EnvironmentResult,
    classify_uv_error,
)

# Real uv 0.13 output for each failure.
UV_OUTPUTS = {
    "dependency_not_found": (
        "error: No solution found when resolving dependencies\n"
        "  cause: Because nonexistent-pkg was not found in the package registry and you require "
        "nonexistent-pkg, we can conclude that your requirements are unsatisfiable."
    ),
    "version_conflict": (
        "error: No solution found when resolving dependencies\n"
        "  cause: Because fastmcp-slim==4.1.2 depends on pydantic[email]>=2.12.0 and ... "
        "And because you require fastmcp==4.1.2 and pydantic<2, we can conclude that your "
        "requirements are unsatisfiable."
    ),
    "network": (
        "error: Request failed after 3 retries in 4.7s\n"
        "  cause: Failed to fetch: http://127.0.0.1:9/simple/six/\n"
        "  cause: tcp connect error\n  cause: Connection refused (os error 111)"
    ),
    "invalid_requirement": "error: Failed to parse: `foo bar!!`",
}


@pytest.mark.parametrize(("expected", "output"), UV_OUTPUTS.items())
def test_uv_errors_are_classified(expected: str, output: str) -> None:
    assert classify_uv_error(output) == expected


def test_missing_version_counts_as_a_version_problem() -> None:
    output = "cause: Because there is no version of markdown==99.0 and you require markdown==99.0"
    assert classify_uv_error(output) == "version_conflict"


def test_shared_environment_has_the_packages(build_env: EnvironmentResult) -> None:
    assert build_env.packages["fastmcp"] == "4.1.2"
    assert {"markdown", "pytest"} <= set(build_env.packages)
    assert build_env.python.exists() and build_env.site_packages.is_dir()
    assert (build_env.python_home / "bin").is_dir()


@pytest.mark.slow
async def test_nonexistent_dependency_is_dependency_not_found(tmp_path: Path) -> None:
    requirement = BuildRequirement(
        description="x", dependencies=["toolfoundry-no-such-package-zq81"]
    )
    lines: list[str] = []
    with pytest.raises(EnvironmentBuildError) as caught:
        await BuildEnvironment().create(tmp_path / "venv", requirement, on_progress=lines.append)
    assert caught.value.error_class == "dependency_not_found"
    assert "toolfoundry-no-such-package-zq81" in str(caught.value)
    assert any("creating venv" in line for line in lines)


@pytest.mark.slow
async def test_unreachable_index_is_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    environment = BuildEnvironment(cache_dir=tmp_path / "empty-cache")
    requirement = BuildRequirement(description="x", dependencies=["six"])
    with pytest.raises(EnvironmentBuildError) as caught:
        await environment.create(tmp_path / "venv", requirement, with_tests=False)
    assert caught.value.error_class == "network"
