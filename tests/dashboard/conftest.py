"""A live `toolfoundry serve` with real data, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = os.environ.get("TOOLFOUNDRY_TEST_CHROMIUM", "/usr/bin/chromium")
# What a locked-down CI box allows: no sandbox (we are root), no GPU, nothing fetched.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A build the sandbox runs without a model: a package wrapper around `markdown`.
BUILD_REQUIREMENT = {
    "description": "Convert Markdown text to HTML",
    "dependencies": ["markdown"],
    "examples": [{"input": "# Hi", "expected": "<h1>Hi</h1>"}],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _token(data_dir: Path) -> str:
    """The admin token `serve` wrote to its data dir on first start (auth is on by default)."""
    token_file = data_dir / "admin.token"
    if not token_file.is_file():
        pytest.fail(f"serve wrote no {token_file}; is TOOLFOUNDRY_AUTH off in the environment?")
    return token_file.read_text().strip()


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    token: str
    http: httpx.Client
    seeded: dict[str, Any] = field(default_factory=dict)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text()[-3000:]
            pytest.fail(f"toolfoundry serve exited {process.returncode}:\n{tail}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"toolfoundry serve was not ready in 120 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`toolfoundry serve` in a subprocess on a free port, over a fresh data dir with the
    starter catalog, mcp-server-time over stdio, a recorded trajectory and a submitted build."""
    data_dir = tmp_path_factory.mktemp("dashboard-data")
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "TOOLFOUNDRY_DATA_DIR": str(data_dir),
        "TOOLFOUNDRY_PORT": str(port),
        "TOOLFOUNDRY_HOST": "127.0.0.1",
    }
    for name in (
        "TOOLFOUNDRY_DATABASE_URL",
        "TOOLFOUNDRY_REDIS_URL",
        "TOOLFOUNDRY_LLM_MODEL",
        "TOOLFOUNDRY_AUTH",
    ):
        env.pop(name, None)
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(bin_dir / "toolfoundry"), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log)
        token = _token(data_dir)
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            server = LiveServer(url=url, data_dir=data_dir, token=token, http=http)
            _seed(server, bin_dir)
            yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _seed(server: LiveServer, bin_dir: Path) -> None:
    http = server.http
    command = shutil.which("mcp-server-time", path=str(bin_dir))
    assert command, "mcp-server-time is a test dependency"
    added = http.post("/api/v1/mcp-servers", json={"name": "time", "command": command})
    assert added.status_code == 201, added.text
    server.seeded["server_tools"] = added.json()["tools"]

    run = http.post(
        "/api/v1/trajectories",
        json={"query": "summarise 1, 2, 3 and 4", "scenario": "statistics"},
    ).json()
    called = http.post(
        "/api/v1/tools/stats.descriptive_statistics/call",
        json={"arguments": {"values": [1, 2, 3, 4]}, "trajectory_id": run["trajectory_id"]},
    )
    assert called.status_code == 200, called.text
    finished = http.post(
        f"/api/v1/trajectories/{run['trajectory_id']}/finish",
        json={"success": True, "result": {"mean": 2.5}},
    )
    assert finished.status_code == 200, finished.text
    server.seeded["trajectory_id"] = run["trajectory_id"]

    build = http.post("/api/v1/build", json={"requirement": BUILD_REQUIREMENT})
    assert build.status_code == 202, build.text
    server.seeded["build_id"] = build.json()["build_id"]


@dataclass
class Browser:
    """A page with every console error and uncaught exception collected."""

    page: Any
    errors: list[str]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: `apt-get install chromium` (scripts/test.sh does) "
            "or set TOOLFOUNDRY_TEST_CHROMIUM"
        )
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="the test extra installs playwright"
    )
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser(
    chromium: Any, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Browser]:
    """A signed-in page; the test fails if any page logged a console error. With
    TOOLFOUNDRY_TEST_SCREENSHOTS=DIR each test's last page is saved there as a PNG."""
    context = chromium.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.goto(f"{live_server.url}/ui/login")
    page.fill("#token", live_server.token)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    yield Browser(page=page, errors=errors)
    if shots := os.environ.get("TOOLFOUNDRY_TEST_SCREENSHOTS"):
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, f"console errors: {errors}"
