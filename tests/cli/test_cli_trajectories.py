"""`toolfoundry trajectories ...` and `toolfoundry tools insights` against a real catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolfoundry import Settings, ToolLibrary
from toolfoundry.cli.main import app
from toolfoundry.core.settings import get_settings

runner = CliRunner()


@pytest.fixture
async def recorded(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TOOLFOUNDRY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TOOLFOUNDRY_DATABASE_URL", database_url)
    monkeypatch.setenv("TOOLFOUNDRY_LOAD_STARTERS", "false")
    get_settings.cache_clear()
    settings = Settings(data_dir=tmp_path, database_url=database_url, load_starters=False)
    async with ToolLibrary.open(settings) as library:
        await library.register_module("sample_tools")
        for i in range(2):
            async with library.trajectory(f"count the order lines {i}", scenario="orders") as run:
                await run.call("samples.total_quantity", {"items": [{"name": "a"}]})
                await run.call("samples.add", {"a": i})
    return run.id


def test_list_show_combinations_and_insights(recorded: str) -> None:
    listed = runner.invoke(app, ["trajectories", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    runs = json.loads(listed.stdout)
    assert runs[0]["trajectory_id"] == recorded and runs[0]["status"] == "succeeded"
    assert len(runs) == 2

    shown = runner.invoke(app, ["trajectories", "show", recorded])
    assert shown.exit_code == 0 and "samples.total_quantity" in shown.output
    steps = json.loads(runner.invoke(app, ["trajectories", "show", recorded, "--json"]).output)
    assert [s["tool_id"] for s in steps["steps"]] == ["samples.total_quantity", "samples.add"]

    combos = json.loads(runner.invoke(app, ["trajectories", "combinations", "--json"]).output)
    assert combos[0]["tools"] == ["samples.total_quantity", "samples.add"]

    insights = runner.invoke(app, ["tools", "insights", "samples.add", "--json"])
    assert json.loads(insights.stdout)["used_with"][0]["tool_id"] == "samples.total_quantity"
    text = runner.invoke(app, ["tools", "describe", "samples.add", "-f", "text", "--learned"])
    assert "Often used with samples.total_quantity." in text.output

    missing = runner.invoke(app, ["trajectories", "show", "tr_nope"])
    assert missing.exit_code == 1 and "no trajectory 'tr_nope'" in missing.output
