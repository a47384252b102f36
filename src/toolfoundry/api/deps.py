"""Request-scoped access to the running library."""

from typing import Annotated

from fastapi import Depends, Request

from toolfoundry.auth.scopes import Scope
from toolfoundry.library import ToolLibrary


def get_library(request: Request) -> ToolLibrary:
    return request.app.state.library


Library = Annotated[ToolLibrary, Depends(get_library)]


def require_scope(request: Request, scope: Scope) -> None:
    """For what a request's body asks beyond its route's scope (e.g. `build_missing`)."""
    principal = request.scope.get("auth")  # None: auth off for this (loopback) caller
    if principal is not None:
        principal.require(scope)
