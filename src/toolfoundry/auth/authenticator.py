"""Bearer token → `Principal`, with a short in-memory cache so a request costs a hash and a
dict lookup, not a database round trip."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from toolfoundry.auth.scopes import Scope, allows
from toolfoundry.auth.tokens import ApiToken, TokenStore, hash_token
from toolfoundry.core.errors import AuthenticationError, InsufficientScopeError
from toolfoundry.core.models import utcnow

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


class Authenticator:
    def __init__(self, store: TokenStore, *, cache_seconds: float = 5.0) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[ApiToken, float]] = {}

    async def authenticate(self, secret: str | None) -> Principal:
        """The caller behind `secret`; AuthenticationError saying why not otherwise."""
        if not secret:
            raise AuthenticationError("No bearer token was sent.", hint=HINT)
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
            await self.store.touch(token.name, when)
        return Principal(token.name, frozenset(token.scopes))

    def forget(self, name: str | None = None) -> None:
        """Drop cached tokens (one by name, or all) — after a revocation in this process."""
        if name is None:
            self._cache.clear()
            return
        for key, (token, _) in list(self._cache.items()):
            if token.name == name:
                del self._cache[key]
