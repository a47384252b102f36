"""The official MCP Inspector CLI (`@modelcontextprotocol/inspector --cli`, from npm) against a
live `toolfoundry serve`, with a bearer token header, on both protocol eras: tools/list,
tools/call with JSON arguments, an upstream image, resources/list and prompts/list.

scripts/test.sh installs the pinned Inspector into .cache/npm-inspector; without it (no npm)
these tests skip.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import uvicorn

from toolfoundry import Settings
from toolfoundry.api.app import create_app

ROOT = Path(__file__).resolve().parents[2]
INSPECTOR = ROOT / ".cache" / "npm-inspector" / "node_modules" / ".bin" / "mcp-inspector"
MEDIA_SERVER = Path(__file__).parent / "servers" / "media_server.py"
# The Inspector's eras: 2025-11-25 with its initialize handshake, stateless 2026-07-28.
ERAS = {"legacy": "2025-11-25", "modern": "2026-07-28"}

pytestmark = pytest.mark.skipif(
    not INSPECTOR.exists(), reason="MCP Inspector not installed (scripts/test.sh installs it)"
)


async def inspect(url: str, token: str, era: str, *args: str) -> Any:
    """One Inspector CLI run; its JSON result."""
    process = await asyncio.create_subprocess_exec(
        str(INSPECTOR),
        "--cli",
        url,
        "--transport",
        "http",
        "--protocol-era",
        era,
        "--header",
        f"Authorization: Bearer {token}",
        "--format",
        "json",
        "--quiet",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, f"inspector {args}: {err.decode()[-2000:]}"
    return json.loads(out)["result"]


class Gateway(NamedTuple):
    url: str
    token: str
    versions: set[str]  # the MCP-Protocol-Version headers the gateway was sent


@pytest.fixture
async def gateway(settings: Settings, admin_token: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    """`toolfoundry serve` live on a free port with a real stdio upstream registered; the
    protocol versions its clients spoke are noted on the way in."""
    app = create_app(settings)
    versions: set[str] = set()

    async def noting(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/mcp"):
            headers = dict(scope["headers"])
            if version := headers.get(b"mcp-protocol-version"):
                versions.add(version.decode())
        await app(scope, receive, send)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(noting, host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.02)
        media = [str(MEDIA_SERVER), "stdio", str(tmp_path)]
        await app.state.library.add_mcp_server(
            {"name": "media", "command": sys.executable, "args": media}
        )
        yield Gateway(f"http://127.0.0.1:{port}/mcp", admin_token, versions)
    finally:
        server.should_exit = True
        await task


@pytest.mark.parametrize("era", list(ERAS))
async def test_inspector_lists_and_calls_tools(gateway: Gateway, era: str) -> None:
    url, token, versions = gateway
    listed = await inspect(url, token, era, "--method", "tools/list")
    names = {tool["name"] for tool in listed["tools"]}
    assert {"discover_tools", "call_tool", "media.logo", "media.crunch"} <= names

    direct = await inspect(
        url, token, era, "--method", "tools/call", "--tool-name", "media.crunch",
        "--tool-args-json", '{"steps": 2}',
    )  # fmt: skip
    assert direct["content"][0]["text"] == "done 2" and not direct.get("isError")

    # The Inspector's key=value form sends an object as a JSON string; call_tool takes it.
    meta = await inspect(
        url, token, era, "--method", "tools/call", "--tool-name", "call_tool",
        "--tool-arg", "name=media.crunch", 'arguments={"steps": 3}',
    )  # fmt: skip
    assert not meta.get("isError"), meta
    assert meta["structuredContent"] == {
        "tool": "media.crunch@1.0.0",
        "result": {"result": "done 3"},
    }
    assert versions == {ERAS[era]}


@pytest.mark.parametrize("era", list(ERAS))
async def test_inspector_sees_an_upstream_image(gateway: Gateway, era: str) -> None:
    url, token, versions = gateway
    result = await inspect(url, token, era, "--method", "tools/call", "--tool-name", "media.logo")
    block = result["content"][0]
    assert block["type"] == "image" and block["mimeType"] == "image/png"
    assert base64.b64decode(block["data"]).startswith(b"\x89PNG")
    assert versions == {ERAS[era]}


@pytest.mark.parametrize("era", list(ERAS))
async def test_inspector_lists_resources_and_prompts(gateway: Gateway, era: str) -> None:
    url, token, versions = gateway
    resources = await inspect(url, token, era, "--method", "resources/list")
    readme = next(r for r in resources["resources"] if r["name"].endswith("readme"))
    read = await inspect(url, token, era, "--method", "resources/read", "--uri", readme["uri"])
    assert read["contents"][0]["text"].startswith("# Media")
    prompts = await inspect(url, token, era, "--method", "prompts/list")
    describe = next(p for p in prompts["prompts"] if p["name"].endswith("describe"))
    got = await inspect(
        url, token, era, "--method", "prompts/get", "--prompt-name", describe["name"],
        "--prompt-args", "subject=the logo",
    )  # fmt: skip
    assert got["messages"][0]["content"]["text"] == "Describe the logo in one line."
    assert versions == {ERAS[era]}


async def test_inspector_without_a_token_is_refused(gateway: Gateway) -> None:
    url = gateway.url
    process = await asyncio.create_subprocess_exec(
        str(INSPECTOR), "--cli", url, "--transport", "http", "--stored-auth-only",
        "--format", "json", "--quiet", "--method", "tools/list",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode != 0, out.decode()
    error = json.loads(err)["error"]
    assert error["code"] == "auth_required" and "No bearer token was sent" in error["message"]
