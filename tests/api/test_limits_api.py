"""Attacks of issue 9 that tools and MCP registration must contain, tried over REST on a real
catalog: files outside the roots, stdio commands that are not allowed or do not exist, secrets
in listings, runaway regular expressions and sizes, and one saturated MCP server."""

from __future__ import annotations

import concurrent.futures
import os
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from toolfoundry import Settings

ECHO_SERVER = Path(__file__).parents[1] / "mcp" / "servers" / "echo_server.py"
QUIET = {"FASTMCP_SHOW_SERVER_BANNER": "false", "FASTMCP_CHECK_FOR_UPDATES": "off"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    directory = tmp_path / "root"
    directory.mkdir()
    (directory / "ok.csv").write_text("a,b\n1,2\n")
    return directory


@pytest.fixture
def settings(settings: Settings, root: Path) -> Settings:
    """The shared settings with the starters, one file root, a stdio allow-list naming this
    Python only, and small bulkheads so saturation is cheap to reach."""
    return settings.model_copy(
        update={
            "load_starters": True,
            "embedder": "none",
            "files_root": str(root),
            "stdio_commands": sys.executable,
            "max_concurrent_per_server": 2,
            "bulkhead_wait": 0.2,
            # CPU seconds (see docs/security.md): small, so the test is quick on a busy machine.
            "regex_timeout": 0.25,
        }
    )


def call(client: TestClient, tool: str, **arguments: object):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/tools/{tool}/call", json={"arguments": arguments})


# --- files: only under the roots -------------------------------------------------------------


def test_read_table_inside_the_root_works(client: TestClient, root: Path) -> None:
    response = call(client, "tabular.read_table", path=str(root / "ok.csv"))
    assert response.status_code == 200, response.text
    assert response.json()["structured"]["rows"] == [{"a": 1, "b": 2}]
    # A relative path starts at the first root.
    assert call(client, "tabular.read_table", path="ok.csv").json()["structured"]["total_rows"] == 1


@pytest.mark.parametrize(
    "path",
    ["/etc/shadow", "/etc/passwd", "../secret.csv", "{root}/../secret.csv", "{root}/out.csv"],
)
def test_read_table_outside_the_roots_is_403_naming_them(
    client: TestClient, root: Path, path: str
) -> None:
    secret = root.parent / "secret.csv"
    secret.write_text("user,password\nroot,hunter2\n")
    # A symlink inside the root that points out of it.
    (root / "out.csv").symlink_to(secret)
    response = call(
        client, "tabular.read_table", path=path.format(root=root), format="csv", delimiter=":"
    )
    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["code"] == "path_not_allowed"
    assert problem["allowed_roots"] == [os.path.realpath(root)]
    assert str(os.path.realpath(root)) in problem["detail"]
    assert "hunter2" not in response.text and "root:" not in response.text


# --- stdio MCP servers: validated before anything runs ----------------------------------------


def test_stdio_command_off_the_allow_list_never_runs(client: TestClient, tmp_path: Path) -> None:
    marker = tmp_path / "x"
    response = client.post(
        "/api/v1/mcp-servers",
        json={"name": "evil", "command": "/bin/sh", "args": ["-c", f"id > {marker}"]},
    )
    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["code"] == "command_not_allowed"
    assert problem["allowed_commands"] == [sys.executable]
    assert sys.executable in problem["detail"]
    time.sleep(0.2)
    assert not marker.exists()
    assert client.get("/api/v1/mcp-servers").json() == []


def test_missing_stdio_command_is_422_naming_it_and_stores_nothing(client: TestClient) -> None:
    response = client.post(
        "/api/v1/mcp-servers", json={"name": "ghost", "command": "no-such-mcp-server-xyz"}
    )
    assert response.status_code == 422, response.text
    assert "no-such-mcp-server-xyz" in response.json()["detail"]
    assert client.get("/api/v1/mcp-servers").json() == []
    assert client.get("/api/v1/tools", params={"kind": "mcp"}).json() == []


def _register_echo(client: TestClient, name: str, **extra: object) -> dict:
    body = {
        "name": name,
        "command": Path(sys.executable).name if "command" not in extra else extra.pop("command"),
        "args": [str(ECHO_SERVER), "stdio"],
        "env": {**QUIET, "PATH": str(Path(sys.executable).parent), **extra.pop("env", {})},
        **extra,
    }
    response = client.post("/api/v1/mcp-servers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.slow
def test_allowed_command_is_stored_absolute_and_secrets_are_masked(
    client: TestClient,
) -> None:
    info = _register_echo(client, "echo", env={"API_TOKEN": "s3cret-token"})
    assert info["config"]["command"] == os.path.abspath(sys.executable)
    for shown in (info, client.get("/api/v1/mcp-servers/echo").json()):
        assert shown["config"]["env"]["API_TOKEN"] == "***"
        assert set(shown["config"]["env"]) == {*QUIET, "PATH", "API_TOKEN"}
        assert set(shown["config"]["env"].values()) == {"***"}
    listing = client.get("/api/v1/mcp-servers")
    assert "s3cret-token" not in listing.text and "***" in listing.text
    # The server still got the real value: it runs and answers.
    assert call(client, "echo.echo", text="hi").json()["content"] == "hi"


def test_masked_value_is_refused_not_stored(client: TestClient) -> None:
    response = client.post(
        "/api/v1/mcp-servers",
        json={"name": "copy", "url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": "***"}},
    )
    assert response.status_code == 422, response.text
    assert "headers.Authorization" in response.json()["detail"]
    assert client.get("/api/v1/mcp-servers").json() == []


# --- one request cannot take the service down -------------------------------------------------


def test_histogram_bins_are_bounded_by_the_schema(client: TestClient) -> None:
    response = call(client, "stats.histogram", values=[1, 2, 3], bins=1_000_000_000)
    assert response.status_code == 422, response.text
    assert "10000" in response.json()["detail"]
    schema = client.get("/api/v1/tools/stats.histogram").json()["input_schema"]
    assert schema["properties"]["bins"]["maximum"] == 10_000


def test_runaway_regex_is_stopped_while_health_answers(client: TestClient) -> None:
    # The pattern: the `regex` engine does not even backtrack on it.
    started = time.perf_counter()
    response = call(client, "text.regex_find_all", text="a" * 28 + "b", pattern="(a+)+$")
    assert response.status_code == 200 and response.json()["structured"]["count"] == 0
    assert time.perf_counter() - started < 2
    # One it does backtrack on: stopped at the budget, with a 422 naming the pattern,
    # and /health keeps answering while it runs.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        started = time.perf_counter()
        slow = pool.submit(
            call, client, "text.regex_find_all", text="a" * 40 + "b", pattern="(a|aa)+$"
        )
        health_times = []
        while not slow.done():
            t0 = time.perf_counter()
            assert client.get("/health").status_code == 200
            health_times.append(time.perf_counter() - t0)
            time.sleep(0.05)
        response = slow.result()
    elapsed = time.perf_counter() - started
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "pattern_timeout" and problem["pattern"] == "(a|aa)+$"
    assert elapsed < 3
    assert len(health_times) >= 3 and max(health_times) < 0.5, health_times


@pytest.mark.slow
def test_a_saturated_mcp_server_does_not_make_others_wait(client: TestClient) -> None:
    _register_echo(client, "stuck", call_timeout=6)
    _register_echo(client, "other")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        hung = [pool.submit(call, client, "stuck.hang") for _ in range(2)]
        time.sleep(0.5)  # both hold the server's two slots now
        started = time.perf_counter()
        refused = call(client, "stuck.echo", text="x")
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["code"] == "saturated"
        assert "stuck" in refused.json()["detail"]
        assert time.perf_counter() - started < 1.5
        # Another server's tool and a function tool answer at once.
        started = time.perf_counter()
        assert call(client, "other.echo", text="fine").json()["content"] == "fine"
        assert call(client, "samples.add", a=1, b=2).json()["structured"] == 3
        assert time.perf_counter() - started < 1.5
        assert not any(future.done() for future in hung)
        results = [future.result() for future in hung]
    assert all(r.status_code == 200 and r.json()["is_error"] for r in results)
    # Slots are back once the hung calls timed out.
    assert call(client, "stuck.echo", text="again").json()["content"] == "again"
