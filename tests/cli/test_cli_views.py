"""`toolfoundry views ...` and `toolfoundry mcp serve --stdio --view NAME` on a real catalog."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from typer.testing import CliRunner

from toolfoundry.cli.main import app
from toolfoundry.core.settings import get_settings
from toolfoundry.registry.views import VirtualServerSpec, open_view_store

runner = CliRunner()


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TOOLFOUNDRY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TOOLFOUNDRY_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_add_list_remove(env: Path) -> None:
    code, out = invoke("views", "add", "analytics", "--toolkit", "stats", "--tag", "csv",
                       "--tool", "text.word_count", "--builds")  # fmt: skip
    assert code == 0 and "/mcp/analytics" in out, out
    code, out = invoke("views", "add", "agent", "--meta-only", "--json")
    assert code == 0 and json.loads(out)["meta_only"] is True

    code, out = invoke("views", "list", "--json")
    views = {v["name"]: v for v in json.loads(out)}
    assert set(views) == {"agent", "analytics"}
    assert views["analytics"]["toolkits"] == ["stats"] and views["analytics"]["tags"] == ["csv"]
    assert views["analytics"]["tools"] == ["text.word_count"]
    assert views["analytics"]["allow_builds"] and not views["agent"]["allow_builds"]
    code, out = invoke("views", "list")
    assert code == 0 and "analytics" in out and "/mcp/agent" in out

    code, out = invoke("views", "add", "agent")
    assert code == 1 and "already exists" in out
    code, out = invoke("views", "add", "Bad Name")
    assert code == 1 and "name" in out and "lower-case" in out

    code, out = invoke("views", "remove", "agent")
    assert code == 0 and "removed" in out
    code, out = invoke("views", "remove", "agent")
    assert code == 1 and "No virtual server named 'agent'" in out
    code, out = invoke("views", "list", "--json")
    assert [v["name"] for v in json.loads(out)] == ["analytics"]


@pytest.mark.slow
async def test_stdio_serves_one_view(env: Path, database_url: str) -> None:
    """A client launches `toolfoundry mcp serve --stdio --view stats-only` (starters loaded)."""
    if "sqlite" not in database_url:
        pytest.skip("one database is enough for a subprocess test")
    async with open_view_store(get_settings()) as store:  # (the CLI runs its own loop)
        await store.create(VirtualServerSpec(name="stats-only", toolkits=["stats"]))
    cli = Path(sys.executable).parent / "toolfoundry"
    transport = StdioTransport(
        command=str(cli),
        args=["mcp", "serve", "--stdio", "--view", "stats-only"],
        env={
            "TOOLFOUNDRY_DATA_DIR": str(env),
            "TOOLFOUNDRY_DATABASE_URL": database_url,
            "PATH": "/usr/bin:/bin",
        },
    )
    async with Client(transport) as client:
        names = {t.name for t in await client.list_tools()}
        assert "stats__descriptive_statistics" in names and {"discover_tools", "call_tool"} < names
        assert all(n.startswith("stats__") for n in names - {"discover_tools", "call_tool"})
        result = await client.call_tool("stats__descriptive_statistics", {"values": [1, 2, 3]})
        assert result.structured_content["mean"] == 2
        refused = await client.call_tool(
            "call_tool",
            {"name": "text.word_count", "arguments": {}},
            raise_on_error=False,
        )
        assert refused.is_error and "not part of the virtual server" in refused.content[0].text


def test_stdio_with_an_unknown_view_fails_clearly(env: Path) -> None:
    code, out = invoke("mcp", "serve", "--stdio", "--view", "ghost")
    assert code == 1 and "No virtual server named 'ghost'" in out
