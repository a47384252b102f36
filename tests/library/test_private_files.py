"""The data directory and the SQLite catalog (with its -wal and -shm files, where MCP server
secrets pass through) are owner-only, whether new or left world-readable by an older version."""

from __future__ import annotations

import stat
from pathlib import Path

from toolfoundry import Settings, ToolLibrary


def modes(data: Path) -> dict[str, int | None]:
    """Permission bits of the data dir, its files/ and the catalog files; None if missing."""
    paths = {
        "data": data,
        "files": data / "files",
        "db": data / "toolfoundry.db",
        "wal": data / "toolfoundry.db-wal",
        "shm": data / "toolfoundry.db-shm",
    }
    return {
        name: stat.S_IMODE(path.stat().st_mode) if path.exists() else None
        for name, path in paths.items()
    }


def loosen(data: Path) -> None:
    data.chmod(0o755)
    (data / "toolfoundry.db").chmod(0o644)


async def test_new_data_dir_and_database_are_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "var" / "toolfoundry"
    settings = Settings(data_dir=data, load_starters=False, embedder="none")
    async with ToolLibrary.open(settings) as library:
        await library.create_toolkit("written", "a write reaches the WAL")
        assert modes(data) == {
            "data": 0o700,
            "files": 0o700,
            "db": 0o600,
            "wal": 0o600,
            "shm": 0o600,
        }


async def test_existing_world_readable_files_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, load_starters=False, embedder="none")
    async with ToolLibrary.open(settings):
        pass
    loosen(data)
    async with ToolLibrary.open(settings):
        found = modes(data)
        assert (found["data"], found["db"]) == (0o700, 0o600)
