"""The request guards every app gets — trusted Host, authentication, body limit — and what
authentication needs at start-up (the admin token file, or the auth-off warning)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from toolfoundry.api.auth_middleware import AuthMiddleware
from toolfoundry.api.body_limit import BodyLimitMiddleware
from toolfoundry.api.trusted_hosts import TrustedHostMiddleware, allowed_hosts
from toolfoundry.auth.authenticator import Authenticator
from toolfoundry.auth.exposure import AUTH_OFF_WARNING
from toolfoundry.auth.jwt_tokens import JwtVerifier
from toolfoundry.auth.token_file import ensure_admin_token
from toolfoundry.auth.tokens import TokenStore
from toolfoundry.library import ToolLibrary

log = logging.getLogger(__name__)


def install_security(app: FastAPI, library: ToolLibrary) -> Authenticator:
    settings = library.settings
    authenticator = Authenticator(
        TokenStore(library.sessions),
        cache_seconds=settings.auth_cache_seconds,
        jwt=JwtVerifier.from_settings(settings),
    )
    # Added innermost first: a bad Host is refused before anything else, an unauthenticated
    # caller before its body is read.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        AuthMiddleware,
        authenticator=authenticator,
        enabled=settings.auth,
        metrics_public=settings.metrics_public,
    )
    app.add_middleware(
        TrustedHostMiddleware, hosts=allowed_hosts(settings.host, settings.allowed_hosts)
    )
    app.state.authenticator = authenticator
    _document_bearer_auth(app)
    return authenticator


def _document_bearer_auth(app: FastAPI) -> None:
    """Declare the bearer scheme in the OpenAPI schema, so /docs offers an Authorize button."""
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build_schema()  # caches itself in app.openapi_schema
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes["bearer"] = {"type": "http", "scheme": "bearer"}
            schema["security"] = [{"bearer": []}]
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


async def start_security(authenticator: Authenticator, library: ToolLibrary) -> Path | None:
    """The admin token file's path (made on first start), or None with a warning if auth is
    off — logged on every start so nobody forgets it."""
    if not library.settings.auth:
        log.warning(AUTH_OFF_WARNING)
        return None
    return await ensure_admin_token(authenticator.store, library.settings.data_dir)
