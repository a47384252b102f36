"""Request-scoped access to the running library."""

from typing import Annotated

from fastapi import Depends, Request

from toolfoundry.library import ToolLibrary


def get_library(request: Request) -> ToolLibrary:
    return request.app.state.library


Library = Annotated[ToolLibrary, Depends(get_library)]
