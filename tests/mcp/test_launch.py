"""Stdio servers get the trust/proxy settings `uvx`/`npx` need, and their command is stored
resolved so a later `serve` with another PATH still starts them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from toolfoundry import Settings, ToolLibrary

pytestmark = pytest.mark.slow

ENV_SCRIPT = Path(__file__).parent / "servers" / "env_server.py"
BIN = Path(sys.executable).parent


async def test_stdio_child_inherits_ca_bundle_and_proxy_settings(
    library: ToolLibrary, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("TOOLFOUNDRY_SECRET_FOR_TEST", "never-passed")
    await library.add_mcp_server(
        {"name": "env", "command": sys.executable, "args": [str(ENV_SCRIPT)]}
    )

    async def child(name: str) -> str:
        result = await library.call("env.getenv", {"name": name})
        assert not result.is_error, result
        return str(result.content)

    assert str(bundle) in await child("SSL_CERT_FILE")
    assert "127.0.0.1:3128" in await child("HTTPS_PROXY")
    assert "never-passed" not in await child("TOOLFOUNDRY_SECRET_FOR_TEST")
    # The command's own directory comes first on PATH (npx finds the node beside it).
    assert (await child("PATH")).startswith(str(BIN))


async def test_command_is_stored_resolved_and_starts_under_another_path(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    async with ToolLibrary.open(settings) as lib:
        info = await lib.add_mcp_server({"name": "time", "command": "mcp-server-time"})
        assert info.config.command == str(BIN / "mcp-server-time")

    # `serve` started by a service manager: mcp-server-time is not on its PATH.
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    async with ToolLibrary.open(settings) as lib:
        result = await lib.call("time.get_current_time", {"timezone": "UTC"})
        assert not result.is_error, result
        assert "UTC" in str(result.content)
