"""Bearer token → `Principal`, with a short in-memory cache so a request costs a hash and a
dict lookup, not a database round trip."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from toolfoundry.auth.scopes import Scope, allows
from toolfoundry.auth.tokens import PREFIX, ApiToken, TokenStore, hash_token
from toolfoundry.core.errors import AuthenticationError, InsufficientScopeError
from toolfoundry.core.models import utcnow

log = logging.getLogger(__name__)

# last_used_at is for people ("is this token still in use?"), so one write a minute is plenty.
TOUCH_EVERY = timedelta(minutes=1)

HINT = (
    "Send `Authorization: Bearer <token>`. On the server's host `toolfoundry auth token` prints "
    "the admin token; `toolfoundry auth create-token --name NAME --scope read` makes a narrower "
    "one."
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's name and scopes."""

    name: str
    scopes: frozenset[str]

    def allows(self, needed: Scope) -> bool:
        return allows(self.scopes, needed)

    def require(self, needed: Scope) -> None:
        if not self.allows(needed):
            raise InsufficientScopeError(needed.value, sorted(self.scopes))


class JwtVerification(Protocol):
    async def verify(self, token: str) -> tuple[Principal, float | None] | None: ...


class Authenticator:
    def __init__(
        self,
        store: TokenStore,
        *,
        cache_seconds: float = 5.0,
        jwt: JwtVerification | None = None,
    ) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self.jwt = jwt
        self._cache: dict[str, tuple[ApiToken, float]] = {}
        self._jwt_cache: dict[str, tuple[Principal, float]] = {}

    async def authenticate(self, secret: str | None) -> Principal:
        """The caller behind `secret`; AuthenticationError saying why not otherwise."""
        if not secret:
            raise AuthenticationError("No bearer token was sent.", hint=HINT)
        if self.jwt is not None and not secret.startswith(PREFIX):
            return await self._authenticate_jwt(secret)
        key = hash_token(secret)
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[1] < self.cache_seconds:
            token = cached[0]
        else:
            found = await self.store.lookup(secret)
            if found is None:
                self._cache.pop(key, None)
                raise AuthenticationError("The bearer token is not valid.", hint=HINT)
            token = found
            self._cache[key] = (token, now)
        status = token.status  # checked on every use: an expiry needs no cache refresh
        if status != "active":
            raise AuthenticationError(f"The token '{token.name}' is {status}.", hint=HINT)
        when = utcnow()
        if token.last_used_at is None or when - token.last_used_at >= TOUCH_EVERY:
            token.last_used_at = when
            try:
                await self.store.touch(token.name, when)
            except SQLAlchemyError as exc:  # bookkeeping must not fail the request
                log.warning("could not record the use of token %r: %s", token.name, exc)
        return Principal(token.name, frozenset(token.scopes))

    async def _authenticate_jwt(self, token: str) -> Principal:
        key = hash_token(token)
        now = time.monotonic()
        cached = self._jwt_cache.get(key)
        if cached is not None and now < cached[1]:
            return cached[0]
        verified = await self.jwt.verify(token)  # type: ignore[union-attr]
        if verified is None:
            raise AuthenticationError(
                "The JWT is not valid (signature, expiry, issuer or audience).", hint=HINT
            )
        principal, expires_at = verified
        # Trusted until the cache time runs out, never past the token's own expiry.
        valid_for = self.cache_seconds
        if expires_at is not None:
            valid_for = min(valid_for, expires_at - time.time())
        if valid_for > 0:
            if len(self._jwt_cache) > 10_000:  # many short-lived tokens: start over
                self._jwt_cache.clear()
            self._jwt_cache[key] = (principal, now + valid_for)
        return principal

    def forget(self, name: str | None = None) -> None:
        """Drop cached tokens (one by name, or all) — after a revocation in this process."""
        if name is None:
            self._cache.clear()
            return
        for key, (token, _) in list(self._cache.items()):
            if token.name == name:
                del self._cache[key]
