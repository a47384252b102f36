"""The builder reaches the rest of toolfoundry only through its ports; the library provides
them structurally, and the build service and gap closing run on them."""

from __future__ import annotations

from toolfoundry.builder.ports import (
    BuildHost,
    CatalogDatabase,
    GapCloser,
    ServerRegistrar,
    ServerRestorer,
    ToolRunner,
)
from toolfoundry.library import ToolLibrary


async def test_the_library_provides_every_port_of_the_builder(library: ToolLibrary) -> None:
    for port in (BuildHost, ServerRegistrar, ToolRunner, GapCloser):
        assert isinstance(library, port), port.__name__
    assert isinstance(library.catalog, CatalogDatabase)
    assert isinstance(library.servers, ServerRestorer)
    # The build service is built from the ports alone: its own database handle, no library.
    builds = library.builds
    assert builds.host is library and builds.repository.sessions is library.catalog.sessions
