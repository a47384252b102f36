"""The catalog alone, for commands that only read it: no starter imports, MCP connections,
discovery index or fastmcp — a `tools list` costs a query, not a service start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from toolfoundry.cli.output import open_library

if TYPE_CHECKING:
    from toolfoundry.registry.catalog import Catalog


@asynccontextmanager
async def open_catalog() -> AsyncIterator[Catalog]:
    """A read view of the configured catalog. A database not yet at the current schema gets
    the full start once (migrations, then the starter toolkits), as any command would."""
    from toolfoundry.core.settings import get_settings
    from toolfoundry.registry.catalog import Catalog
    from toolfoundry.store.database import (
        create_engine,
        current_revision,
        head_revision,
        session_factory,
    )

    engine = create_engine(get_settings().resolved_database_url)
    try:
        if await current_revision(engine) != head_revision():
            async with open_library():
                pass
        yield Catalog(session_factory(engine))
    finally:
        await engine.dispose()
