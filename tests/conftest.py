"""Shared fixtures: a real catalog database per test, SQLite always and PostgreSQL when
TOOLFOUNDRY_TEST_POSTGRES_URL points at a server (scripts/test.sh starts one)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from toolfoundry import Settings, ToolLibrary

POSTGRES_URL = os.environ.get("TOOLFOUNDRY_TEST_POSTGRES_URL")
# Tests check what discovery answers, not how fast a loaded CI machine is: the static fallback
# past the latency budget has its own tests (tests/library/test_fallbacks.py) with short budgets.
os.environ.setdefault("TOOLFOUNDRY_DISCOVERY_LATENCY_BUDGET", "300")
# Builds in tests share uv's warm default cache, not a cold one in each test's data directory.
os.environ.setdefault(
    "TOOLFOUNDRY_UV_CACHE_DIR",
    str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "uv"),
)


async def _create_pg_database() -> tuple[str, str]:
    import asyncpg

    admin = make_url(POSTGRES_URL)
    name = f"tf_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(
        host=admin.host,
        port=admin.port,
        user=admin.username,
        password=admin.password,
        database=admin.database,
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin.set(database=name).render_as_string(hide_password=False), name


async def _drop_pg_database(name: str) -> None:
    import asyncpg

    admin = make_url(POSTGRES_URL)
    conn = await asyncpg.connect(
        host=admin.host,
        port=admin.port,
        user=admin.username,
        password=admin.password,
        database=admin.database,
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty catalog database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("TOOLFOUNDRY_TEST_POSTGRES_URL not set (scripts/test.sh starts PostgreSQL)")
    url, name = await _create_pg_database()
    yield url
    await _drop_pg_database(name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        load_starters=False,
        retry_backoff=0.01,
        allowed_hosts="testserver",  # Starlette's TestClient sends `Host: testserver`
    )


@pytest.fixture
async def admin_token(settings: Settings) -> str:
    """The admin token of the test's data directory and database — the one an app started on
    these settings finds and keeps (auth is on by default)."""
    from toolfoundry.auth import admin_token

    return await admin_token(settings)


@pytest.fixture
def auth_headers(admin_token: str) -> dict[str, str]:
    """`Authorization: Bearer <admin token>`, for TestClient(headers=...) and httpx clients."""
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture
async def library(settings: Settings) -> AsyncIterator[ToolLibrary]:
    async with ToolLibrary.open(settings) as lib:
        yield lib


@pytest.fixture
def cli_with_model(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], AbstractContextManager[None]]:
    """`with cli_with_model(stub.url):` — CLI commands run in it use the test's data directory
    and database and the OpenAI-compatible model at that URL (settings re-read on entry and
    exit, so no other test sees them)."""
    from toolfoundry.core.settings import get_settings

    @contextlib.contextmanager
    def configure(model_url: str) -> Iterator[None]:
        for key, value in {
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": database_url,
            "LLM_MODEL": "openai:stub",
            "LLM_BASE_URL": model_url,
        }.items():
            monkeypatch.setenv(f"TOOLFOUNDRY_{key}", value)
        get_settings.cache_clear()
        try:
            yield
        finally:
            get_settings.cache_clear()

    return configure
