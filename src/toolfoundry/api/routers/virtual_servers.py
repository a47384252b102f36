"""/api/v1/virtual-servers: named views of the catalog, each served at /mcp/{name}.
Reading needs `read`; creating and removing need `admin` (the default for unlisted writes)."""

from fastapi import APIRouter, status

from toolfoundry.api.deps import Library
from toolfoundry.api.problems import problem_responses
from toolfoundry.registry.views import VirtualServer, VirtualServerSpec

router = APIRouter(
    prefix="/api/v1/virtual-servers",
    tags=["virtual-servers"],
    responses=problem_responses(400, 404, 409, 422, 503),
)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_view(spec: VirtualServerSpec, library: Library) -> VirtualServer:
    """Create a view: tools by toolkit, tag or id (any match counts; none given means the whole
    catalog), or only the meta-tools. Its MCP endpoint is at once `/mcp/{name}`. A taken name
    is a 409."""
    return await library.views.create(spec)


@router.get("")
async def list_views(library: Library) -> list[VirtualServer]:
    return await library.views.list()


@router.get("/{name}")
async def get_view(name: str, library: Library) -> VirtualServer:
    return await library.views.get(name)


@router.delete("/{name}")
async def remove_view(name: str, library: Library) -> VirtualServer:
    """Remove a view; its endpoint stops answering (open sessions end)."""
    return await library.views.remove(name)
