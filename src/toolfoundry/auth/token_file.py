"""The admin token file: made on first start in the data directory, readable by its owner only,
so the person who started the service (and nobody else on the machine) can use it — as Jupyter
does with its start-up token."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from toolfoundry.auth.scopes import Scope
from toolfoundry.auth.tokens import TokenStore, open_token_store
from toolfoundry.core.errors import ConflictError
from toolfoundry.core.settings import Settings

log = logging.getLogger(__name__)

FILE_NAME = "admin.token"


def admin_token_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def secure_data_dir(data_dir: Path) -> None:
    """Create the data directory owner-only (0700), and tighten an existing one we own."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = data_dir.stat()
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
        log.info("data directory %s was readable by others; now 0700", data_dir)
        data_dir.chmod(0o700)


def read_admin_token(data_dir: Path) -> str | None:
    """The admin token written on first start, or None when there is none (yet)."""
    try:
        return admin_token_path(data_dir).read_text().strip() or None
    except (FileNotFoundError, PermissionError):
        return None


def write_admin_token(path: Path, secret: str) -> None:
    """Write the file 0600 from the start (never briefly world-readable), then swap it in."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


async def ensure_admin_token(store: TokenStore, data_dir: Path) -> Path:
    """Keep the file's token if it is still a usable admin token of this database; otherwise
    create one (named `admin`, or `admin-xxxxxx` if that name is taken, e.g. by a replica
    sharing the database) and write it. Returns the file's path."""
    secure_data_dir(data_dir)
    path = admin_token_path(data_dir)
    current = read_admin_token(data_dir)
    if current is not None:
        token = await store.lookup(current)
        if token is not None and token.status == "active" and Scope.admin in token.scopes:
            path.chmod(0o600)
            return path
    name = "admin"
    while True:
        try:
            _, secret = await store.create(name, [Scope.admin])
            break
        except ConflictError:
            name = f"admin-{secrets.token_hex(3)}"
    write_admin_token(path, secret)
    log.info("created admin token '%s' in %s", name, path)
    return path


async def admin_token(settings: Settings) -> str:
    """The admin token of this data directory and database, created if there is none yet."""
    async with open_token_store(settings) as store:
        await ensure_admin_token(store, settings.data_dir)
    token = read_admin_token(settings.data_dir)
    assert token is not None  # just written
    return token
