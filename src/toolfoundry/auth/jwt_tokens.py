"""JWTs from an identity provider, verified by fastmcp's `JWTVerifier` (JWKS, issuer, audience,
expiry) — no crypto of our own. The token's `scope`/`scp` claim maps to toolfoundry scopes:
with prefix `toolfoundry:`, the IdP scope `toolfoundry:read` grants `read`."""

from __future__ import annotations

from fastmcp.server.auth.providers.jwt import JWTVerifier

from toolfoundry.auth.authenticator import Principal
from toolfoundry.auth.scopes import Scope
from toolfoundry.core.settings import Settings

SCOPES = frozenset(s.value for s in Scope)


class JwtVerifier:
    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str | None = None,
        audience: str | None = None,
        scope_prefix: str = "",
    ) -> None:
        self.verifier = JWTVerifier(jwks_uri=jwks_url, issuer=issuer, audience=audience)
        self.scope_prefix = scope_prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> JwtVerifier | None:
        if not settings.jwt_jwks_url:
            return None
        return cls(
            settings.jwt_jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            scope_prefix=settings.jwt_scope_prefix,
        )

    async def verify(self, token: str) -> tuple[Principal, float | None] | None:
        """The caller and the token's expiry (epoch seconds), or None for an invalid token."""
        access = await self.verifier.verify_token(token)
        if access is None:
            return None
        prefix = self.scope_prefix
        scopes = {s.removeprefix(prefix) for s in access.scopes if s.startswith(prefix)} & SCOPES
        name = f"jwt:{access.subject or access.client_id}"
        return Principal(name, frozenset(scopes)), access.expires_at
