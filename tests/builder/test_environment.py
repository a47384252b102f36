"""Build venvs: uv's failures classified so a healer can act on them."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from toolfoundry.builder.models import BuildRequirement
from toolfoundry.builder.stages.environment import (
    UV_ENV,
    BuildEnvironment,
    EnvironmentBuildError,
    EnvironmentResult,
    classify_uv_error,
    resolve_interpreter,
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
    assert build_env.packages["fastmcp"] == "4.2.3"
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


@pytest.mark.slow
async def test_planted_uv_config_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listener: object
) -> None:
    """The issue's attack: a uv.toml in the temp directory (where uv used to run) and in the
    build directory asks for a managed Python from the attacker's download list."""
    port = listener.port  # type: ignore[attr-defined]
    planted = (
        f'python-downloads-json-url = "http://127.0.0.1:{port}/pythons.json"\n'
        'python-preference = "only-managed"\npython-downloads = "automatic"\n'
    )
    temp_dir, build_dir = tmp_path / "tmp", tmp_path / "build"
    for directory in (temp_dir, build_dir):
        directory.mkdir()
        (directory / "uv.toml").write_text(planted)
        (directory / "pyproject.toml").write_text(f"[tool.uv]\n{planted}")
    monkeypatch.setenv("TMPDIR", str(temp_dir))
    monkeypatch.setattr(tempfile, "tempdir", str(temp_dir))
    monkeypatch.chdir(build_dir)
    requirement = BuildRequirement(description="x")
    env = await BuildEnvironment(cache_dir=_warm_cache()).create(
        build_dir / "venv", requirement, with_tests=False
    )
    assert listener.connections == 0  # type: ignore[attr-defined]
    interpreter = resolve_interpreter(f"{sys.version_info.major}.{sys.version_info.minor}")
    assert env.python.resolve() == interpreter  # the system interpreter, given by path
    assert "uv/python" not in str(env.python_home)  # not a managed download
    assert env.packages["fastmcp"] == "4.2.3"


def test_uv_runs_with_no_config_and_system_python_only() -> None:
    assert UV_ENV["UV_NO_CONFIG"] == "1"
    assert UV_ENV["UV_PYTHON_DOWNLOADS"] == "never"
    assert UV_ENV["UV_PYTHON_PREFERENCE"] == "only-system"


def test_interpreter_is_resolved_to_a_real_path() -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    path = resolve_interpreter(version)
    assert path.is_absolute() and "shims" not in str(path) and path.is_file()
    with pytest.raises(EnvironmentBuildError, match=r"no Python 2\.9"):
        resolve_interpreter("2.9")
    with pytest.raises(EnvironmentBuildError, match="does not exist"):
        resolve_interpreter("/nonexistent/python")


def _warm_cache() -> Path | None:
    """uv's own default cache, so the test needs no download (None: uv picks it)."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "uv" if xdg else Path.home() / ".cache" / "uv"
