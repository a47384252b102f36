"""What a newcomer meets first: builds name the exact fix when bubblewrap is missing, and
long work prints progress lines when output is not a terminal (CI logs, pipes, services)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolfoundry.builder.stages.sandbox import sandbox_available
from toolfoundry.cli.main import app
from toolfoundry.core.settings import get_settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TOOLFOUNDRY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TOOLFOUNDRY_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_build_without_bubblewrap_names_the_install_command(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(env / "empty-bin"))  # nothing found: no bwrap, no prlimit
    sandbox_available.cache_clear()  # the answer is cached per process
    try:
        result = runner.invoke(app, ["build", "Convert Markdown text to HTML", "-d", "markdown"])
    finally:
        sandbox_available.cache_clear()
    assert result.exit_code == 1
    assert "builds need the bubblewrap sandbox: not installed: bwrap" in result.output
    assert "apt-get install bubblewrap util-linux" in result.output
    assert not list(env.glob("builds/*")), "nothing was started"


def test_discover_prints_progress_lines_without_a_terminal(env: Path) -> None:
    args = ["discover", "compute the mean of 1, 2 and 3", "--mode", "retrieval"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "indexing the catalog…" in result.output
    assert "done in " in result.output
    assert "stats." in result.output
