"""Engine and session factory; applies migrations so every start meets an up-to-date schema."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from toolfoundry.core.private_files import private_dir, private_file

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def head_revision() -> str:
    """The newest migration, read from file names (`NNNN_description.py`) without importing
    alembic, which costs half a second of start-up."""
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py"))


def create_engine(url: str) -> AsyncEngine:
    """An async engine; for SQLite, WAL and a busy timeout so concurrent writers wait, not fail."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # Owner-only: the catalog holds MCP server secrets (env, headers).
            database = Path(parsed.database)
            if not database.parent.exists():
                private_dir(database.parent)
            for path in (database, *(Path(f"{database}{end}") for end in ("-wal", "-shm"))):
                if path == database or path.exists():
                    private_file(path)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL still survives a crash of the process (kill -9) — what a
            # committed call record needs — without an fsync per commit; only a power loss may
            # undo the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to `revision` on the engine's database."""
    if revision == "head" and await current_revision(engine) == head_revision():
        return

    def run(connection: Connection) -> None:
        from alembic import command

        command.upgrade(alembic_config(connection), revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's migration revision; None for a database never migrated."""
    async with engine.connect() as conn:
        try:
            return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        except Exception:  # no alembic_version table yet: a fresh database
            return None


def session_factory(engine: AsyncEngine, origin: str | None = None) -> async_sessionmaker:
    """Sessions whose catalog writes record changes under `origin` (see `store/changes.py`)."""
    from toolfoundry.store.changes import PROCESS_ORIGIN  # registers the change-recording hook

    return async_sessionmaker(
        engine, expire_on_commit=False, info={"origin": origin or PROCESS_ORIGIN}
    )
