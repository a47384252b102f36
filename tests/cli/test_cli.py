"""The `toolfoundry` command against a real catalog database."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolfoundry.cli.main import app
from toolfoundry.core.settings import get_settings
from toolfoundry.store.database import head_revision

runner = CliRunner()


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TOOLFOUNDRY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TOOLFOUNDRY_DATABASE_URL", database_url)
    monkeypatch.setenv("TOOLFOUNDRY_LOAD_STARTERS", "false")
    get_settings.cache_clear()
    module_dir = tmp_path / "mods"
    module_dir.mkdir()
    (module_dir / "weather_tools.py").write_text(
        textwrap.dedent(
            '''
            """Weather helpers."""
            from typing import Literal

            from toolfoundry import tool


            @tool(toolkit="weather", tags=["units"])
            def to_celsius(value: float, unit: Literal["F", "K"] = "F") -> float:
                """Convert a temperature to degrees Celsius.

                Args:
                    value: The temperature.
                    unit: Its unit: F (Fahrenheit) or K (Kelvin).
                """
                return (value - 32) * 5 / 9 if unit == "F" else value - 273.15


            @tool
            async def describe_wind(speed_kmh: float) -> str:
                """Name the wind on the Beaufort scale (roughly).

                Args:
                    speed_kmh: Wind speed in km/h.
                """
                return "calm" if speed_kmh < 2 else "breeze" if speed_kmh < 39 else "gale"
            '''
        )
    )
    yield module_dir
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_add_module_then_list_show_call(env: Path) -> None:
    code, out = invoke("tools", "add-module", "weather_tools", "--path", str(env))
    assert code == 0, out
    assert "registered 2 tools" in out
    assert "weather.to_celsius@1.0.0(value, unit)" in out
    assert "weather_tools.describe_wind" in out  # no toolkit in the decorator: module name

    code, out = invoke("tools", "list", "--json")
    ids = [t["id"] for t in json.loads(out)]
    assert ids == ["weather.to_celsius", "weather_tools.describe_wind"]

    code, out = invoke("tools", "show", "weather.to_celsius", "--json")
    schema = json.loads(out)["input_schema"]
    assert schema["properties"]["unit"]["enum"] == ["F", "K"]

    code, out = invoke("tools", "call", "weather.to_celsius", '{"value": 212}', "--json")
    assert code == 0 and json.loads(out)["structured"] == 100.0
    code, out = invoke("tools", "call", "weather_tools.describe_wind", '{"speed_kmh": 50}')
    assert code == 0 and out.strip() == "gale"

    code, out = invoke("calls", "list", "--json")
    assert len(json.loads(out)) == 2


def test_enable_disable_and_toolkits(env: Path) -> None:
    invoke("tools", "add-module", "weather_tools", "--path", str(env))
    code, out = invoke("tools", "disable", "weather.to_celsius")
    assert code == 0 and "disabled" in out
    code, out = invoke("tools", "call", "weather.to_celsius", '{"value": 1}')
    assert code == 1 and "disabled" in out and "toolfoundry tools enable" in out
    code, out = invoke("tools", "enable", "weather.to_celsius")
    assert code == 0 and "enabled" in out
    code, out = invoke("toolkits", "list", "--json")
    assert {k["id"]: k["tool_count"] for k in json.loads(out)} == {
        "weather": 1,
        "weather_tools": 1,
    }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("tools", "call", "weather.to_celsius", "{not json"), "not valid JSON"),
        (("tools", "call", "weather.to_celsius", "[1]"), "must be a JSON object"),
        (("tools", "call", "weather.to_celsius", '{"value": "hot"}'), "value"),
        (("tools", "call", "weather.to_celsiu", "{}"), "weather.to_celsius"),
        (("tools", "add-module", "no_such_module_xyz"), "cannot import"),
        (("tools", "show", "nothing.here"), "No tool named"),
    ],
)
def test_bad_input_says_what_to_do(env: Path, args: tuple[str, ...], expected: str) -> None:
    invoke("tools", "add-module", "weather_tools", "--path", str(env))
    code, out = invoke(*args)
    assert code == 1
    assert expected in out
    assert "Traceback" not in out


def test_db_upgrade(env: Path) -> None:
    code, out = invoke("db", "upgrade")
    assert code == 0 and f"revision {head_revision()}" in out


@pytest.mark.slow
def test_mcp_add_list_and_import(env: Path, tmp_path: Path) -> None:
    import shutil
    import sys

    command = shutil.which("mcp-server-time", path=str(Path(sys.executable).parent))
    assert command
    code, out = invoke("mcp", "add", "time", "--", command)
    assert code == 0, out
    assert "registered MCP server time" in out
    code, out = invoke("tools", "call", "time.get_current_time", '{"timezone": "UTC"}')
    assert code == 0 and "UTC" in out
    code, out = invoke("mcp", "list", "--json")
    assert [s["name"] for s in json.loads(out)] == ["time"]

    config = tmp_path / "claude_desktop_config.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "clock": {"command": command, "args": []},
                    "broken": {"command": "/nonexistent/server"},
                }
            }
        )
    )
    code, out = invoke("mcp", "import", str(config))
    assert code == 1
    assert "added clock" in out and "failed broken" in out
    code, out = invoke("mcp", "remove", "clock")
    assert code == 0 and "removed clock" in out


@pytest.mark.slow
def test_module_registered_in_one_command_runs_in_the_next(env: Path) -> None:
    """Separate processes, as in a shell: the README quickstart."""
    import os
    import subprocess
    import sys

    cli = Path(sys.executable).parent / "toolfoundry"
    run_env = {**os.environ}
    added = subprocess.run(
        [str(cli), "tools", "add-module", "weather_tools"],
        cwd=env,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert added.returncode == 0, added.stderr
    called = subprocess.run(
        [str(cli), "tools", "call", "weather.to_celsius", '{"value": 212}'],
        cwd=env,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert called.returncode == 0, called.stderr
    assert called.stdout.strip() == "100.0"


@pytest.mark.slow
def test_mcp_secrets_are_never_printed(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    import sys

    command = shutil.which("mcp-server-time", path=str(Path(sys.executable).parent))
    assert command
    code, out = invoke("mcp", "add", "time", "--env", "API_TOKEN=s3cret-token", "--", command)
    assert code == 0, out
    assert "s3cret-token" not in out
    for args in (("mcp", "list", "--json"), ("mcp", "show", "time", "--json")):
        code, out = invoke(*args)
        assert code == 0 and "s3cret-token" not in out
        shown = json.loads(out)
        config = (shown[0] if isinstance(shown, list) else shown)["config"]
        assert config["env"] == {"API_TOKEN": "***"}
    code, out = invoke("mcp", "show", "time")
    assert code == 0 and "s3cret-token" not in out

    # An allow-list that does not name the command: refused before it runs, nothing stored.
    monkeypatch.setenv("TOOLFOUNDRY_STDIO_COMMANDS", "uvx,npx")
    get_settings.cache_clear()
    code, out = invoke("mcp", "add", "sh", "--", "/bin/sh", "-c", "exit 0")
    assert code != 0 and "not allowed" in out and "uvx, npx" in out
    code, out = invoke("mcp", "list", "--json")
    assert [s["name"] for s in json.loads(out)] == ["time"]
