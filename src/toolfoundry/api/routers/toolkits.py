"""/api/v1/toolkits"""

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from toolfoundry.api.deps import Library
from toolfoundry.api.problems import problem_responses
from toolfoundry.core.models import Toolkit

router = APIRouter(
    prefix="/api/v1/toolkits",
    tags=["toolkits"],
    responses=problem_responses(400, 404, 409, 422, 503),
)


class ToolkitCreate(BaseModel):
    name: str = Field(description="1-64 letters, digits, '_' or '-'; prefixes its tools' ids.")
    description: str = ""
    category: str = "general"


@router.get("")
async def list_toolkits(library: Library, category: str | None = None) -> list[Toolkit]:
    return await library.list_toolkits(category)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_toolkit(body: ToolkitCreate, library: Library) -> Toolkit:
    return await library.create_toolkit(body.name, body.description, body.category)
