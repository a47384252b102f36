"""Importing Claude Desktop / Cursor `mcpServers` files and MCP Registry server.json files."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolfoundry.mcp import (
    McpConfigError,
    McpServerConfig,
    load_server_configs,
    parse_mcp_servers,
    parse_server_json,
)

DATA = Path(__file__).parent / "data"


def by_name(configs: list[McpServerConfig]) -> dict[str, McpServerConfig]:
    return {config.name: config for config in configs}


def test_claude_desktop_file() -> None:
    configs = by_name(load_server_configs(DATA / "claude_desktop_config.json"))
    assert set(configs) == {"time", "github-tools"}  # "old" is disabled
    time = configs["time"]
    assert time.transport == "stdio"
    assert time.command == "uvx"
    assert time.args == ["mcp-server-time", "--local-timezone=Europe/Paris"]
    github = configs["github-tools"]
    assert github.env == {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_example"}
    assert github.toolkit == "github-tools"


def test_cursor_file_with_remote_servers() -> None:
    configs = by_name(load_server_configs(DATA / "cursor_mcp.json"))
    assert configs["linear"].transport == "http"
    assert configs["linear"].headers == {"Authorization": "Bearer token"}
    assert configs["legacy-sse"].transport == "sse"
    assert configs["explicit"].transport == "http"
    assert configs["local"].cwd == "/srv/tools"


def test_vs_code_servers_key() -> None:
    configs = parse_mcp_servers({"servers": {"t": {"type": "stdio", "command": "t-server"}}})
    assert configs[0].command == "t-server"


def test_bad_mcp_servers_entry_is_named() -> None:
    with pytest.raises(McpConfigError, match=r"mcpServers\['broken'\]: transport: unknown"):
        load_server_configs(DATA / "invalid_mcp_servers.json")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mcpServers": []}, "`mcpServers` must be an object"),
        ({"mcpServers": {"a": "npx x"}}, r"mcpServers\['a'\] must be an object"),
        ({"mcpServers": {"a": {}}}, r"mcpServers\['a'\]: entry: give either `command`"),
        ({"mcpServers": {"!!!": {"command": "x"}}}, "cannot make a server name from '!!!'"),
        (
            {"mcpServers": {"A": {"command": "x"}, "a": {"command": "y"}}},
            "another entry already uses the name 'a'",
        ),
        ({"mcpServers": {"a": {"command": "x", "args": "-v"}}}, r"args: Input should be"),
    ],
)
def test_mcp_servers_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(McpConfigError, match=message):
        parse_mcp_servers(data)


def test_server_json_pypi_package_needs_its_required_inputs() -> None:
    with pytest.raises(McpConfigError, match="required environment 'WEATHER_API_KEY'"):
        load_server_configs(DATA / "server_pypi.json", values={"city": "Paris"})
    with pytest.raises(McpConfigError, match="required argument 'city' has no value"):
        load_server_configs(DATA / "server_pypi.json", values={"WEATHER_API_KEY": "k"})


def test_server_json_pypi_package_runs_with_uvx() -> None:
    [config] = load_server_configs(
        DATA / "server_pypi.json", values={"WEATHER_API_KEY": "secret", "city": "Paris"}
    )
    assert config.name == "weather"
    assert config.transport == "stdio"
    assert config.command == "uvx"
    assert config.args == ["weather-mcp-server@0.5.0", "--units", "celsius", "Paris"]
    assert config.env == {"WEATHER_API_KEY": "secret", "LOG_LEVEL": "info"}


def test_server_json_skips_unsupported_packages_for_npm() -> None:
    [config] = load_server_configs(DATA / "server_npm_oci.json")
    assert config.name == "filesystem"
    assert config.command == "npx"
    assert config.args == ["-y", "@modelcontextprotocol/server-filesystem@1.0.2", "/data"]


def test_server_json_oci_package_runs_with_docker() -> None:
    data = load_json("server_npm_oci.json")
    data["packages"] = data["packages"][2:]
    [config] = parse_server_json(data)
    assert config.command == "docker"
    assert config.args == [
        "run",
        "-i",
        "--rm",
        "--mount",
        "type=bind,src=/home/me/project,dst=/project",
        "-e",
        "LOG_LEVEL",
        "docker.io/mcp/filesystem:1.0.2",
    ]
    assert config.env == {"LOG_LEVEL": "debug"}


def test_server_json_remotes_prefer_streamable_http_with_failover() -> None:
    [config] = load_server_configs(DATA / "server_remotes.json", values={"X-API-Key": "k"})
    assert config.name == "acme-analytics"
    assert config.transport == "http"
    assert config.url == "https://analytics.example.com/mcp"
    assert config.failover_urls == ["https://analytics-eu.example.com/mcp"]
    assert config.headers == {"X-API-Key": "k"}


def test_server_json_remote_missing_header_is_named() -> None:
    with pytest.raises(McpConfigError, match="remotes: the required header 'X-API-Key'"):
        load_server_configs(DATA / "server_remotes.json")


def test_registry_listing() -> None:
    configs = by_name(load_server_configs(DATA / "registry_listing.json"))
    assert configs["time"].args == ["mcp-server-time@2025.9.25"]
    assert configs["remote-only"].url == "https://remote.example/mcp"


def test_prefer_remote_over_package() -> None:
    data = {
        "name": "x/both",
        "packages": [{"registryType": "npm", "identifier": "b", "transport": {"type": "stdio"}}],
        "remotes": [{"type": "sse", "url": "https://both.example/sse"}],
    }
    assert parse_server_json(data)[0].transport == "stdio"
    assert parse_server_json(data, prefer="remote")[0].transport == "sse"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x/none", "description": "d"}, "neither `packages` nor `remotes`"),
        (
            {"name": "x/n", "packages": [{"registryType": "mcpb", "identifier": "u"}]},
            r"packages\[0\]: registryType 'mcpb' is not supported \(use pypi, npm or oci\)",
        ),
        (
            {
                "name": "x/h",
                "packages": [
                    {"registryType": "npm", "identifier": "p", "transport": {"type": "sse"}}
                ],
            },
            "only stdio packages can be started",
        ),
        (
            {"name": "x/r", "remotes": [{"type": "websocket", "url": "wss://x"}]},
            r"remotes\[0\]: type 'websocket' is not one of streamable-http, sse",
        ),
        ({"name": "x/u", "remotes": [{"type": "sse"}]}, r"remotes\[0\]: `url` is missing"),
        ({"name": "x/i", "packages": [{"registryType": "pypi"}]}, "`identifier` is missing"),
        ({"servers": [{"server": {"description": "d"}}]}, "needs a string `name`"),
    ],
)
def test_server_json_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(McpConfigError, match=message):
        parse_server_json(data)


def test_unreadable_and_unrecognized_files(tmp_path: Path) -> None:
    with pytest.raises(McpConfigError, match="cannot read"):
        load_server_configs(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"mcpServers": {')
    with pytest.raises(McpConfigError, match=r"not valid JSON \(line 1"):
        load_server_configs(broken)
    with pytest.raises(McpConfigError, match="unrecognized MCP server file"):
        load_server_configs({"tools": []})


def load_json(name: str) -> dict[str, object]:
    import json

    return json.loads((DATA / name).read_text())
