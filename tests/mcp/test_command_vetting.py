"""Stdio commands are checked before anything runs: they must exist, be on the allow-list when
one is set (compared as real paths), and are kept as absolute paths."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from toolfoundry.mcp import (
    McpCommandNotAllowedError,
    McpConfigError,
    McpConnectionManager,
    McpServerConfig,
)


def stdio(command: str, **extra: object) -> McpServerConfig:
    return McpServerConfig.model_validate({"name": "s", "command": command, **extra})


def test_names_resolve_to_absolute_paths() -> None:
    manager = McpConnectionManager()
    python = Path(sys.executable)
    vetted = manager.vet(stdio(python.name, env={"PATH": str(python.parent)}))
    assert vetted.command == os.path.abspath(python)
    assert manager.vet(stdio("sh")).command == shutil.which("sh")


def test_missing_commands_are_named() -> None:
    with pytest.raises(McpConfigError, match="no-such-server-xyz"):
        McpConnectionManager().vet(stdio("no-such-server-xyz"))


def test_allow_list_by_name_and_by_path(tmp_path: Path) -> None:
    manager = McpConnectionManager(allowed_commands=["sh", sys.executable])
    assert manager.vet(stdio("sh")).command == shutil.which("sh")
    assert manager.vet(stdio(sys.executable)).command == sys.executable
    with pytest.raises(McpCommandNotAllowedError) as caught:
        manager.vet(stdio("/bin/cat"))
    assert caught.value.allowed == ["sh", sys.executable]
    # A look-alike named like an allowed command is still another program.
    fake = tmp_path / "sh"
    fake.write_text("#!/bin/cat\n")
    fake.chmod(0o755)
    with pytest.raises(McpCommandNotAllowedError):
        manager.vet(stdio("sh", env={"PATH": str(tmp_path)}))
    with pytest.raises(McpCommandNotAllowedError):
        manager.vet(stdio(str(fake)))


async def test_restore_skips_a_command_no_longer_allowed() -> None:
    manager = McpConnectionManager(allowed_commands=["uvx"])
    with pytest.raises(McpCommandNotAllowedError):
        await manager.add(stdio("/bin/sh", args=["-c", "exit 0"]), connect=False)
    assert manager.names() == []
