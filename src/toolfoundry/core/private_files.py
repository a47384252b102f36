"""Owner-only files and directories for what holds secrets: the data directory and the SQLite
catalog (MCP server tokens live in its rows, and in its -wal/-shm files between checkpoints)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["private_dir", "private_file"]


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) as 0700; tighten it to 0700 if this user owns it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty as 0600 if missing, else tighten it to 0600 if this user owns it.

    SQLite creates a database's -wal and -shm files with the database file's mode, so creating
    the database 0600 first keeps all three private."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        _tighten(path, 0o600)
    return path


def _tighten(path: Path, mode: int) -> None:
    # Another user's directory (e.g. a shared parent) is left alone; a failure is not fatal.
    with contextlib.suppress(OSError):
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o777 & ~mode:
            path.chmod(mode)
