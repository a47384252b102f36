"""Opaque API tokens: created once, stored as a SHA-256 hash, listed without secrets, revoked.

A token is 256 random bits (`secrets`), so a plain SHA-256 is a safe verifier — slow password
hashes exist for low-entropy secrets and would only add latency to every request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, computed_field
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from toolfoundry.auth.scopes import Scope
from toolfoundry.core.errors import ConflictError, InvalidInputError, NotFoundError
from toolfoundry.core.models import utcnow
from toolfoundry.core.settings import Settings
from toolfoundry.store.database import create_engine, session_factory, upgrade
from toolfoundry.store.tables import ApiTokenRow

PREFIX = "tf_"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
TokenStatus = Literal["active", "expired", "revoked"]


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(when: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


class ApiToken(BaseModel):
    """A token as listed: never its secret."""

    name: str
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> TokenStatus:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= utcnow():
            return "expired"
        return "active"

    @classmethod
    def from_row(cls, row: ApiTokenRow) -> ApiToken:
        return cls(
            name=row.name,
            scopes=[Scope(s) for s in row.scopes],
            created_at=_aware(row.created_at),  # type: ignore[arg-type]
            last_used_at=_aware(row.last_used_at),
            expires_at=_aware(row.expires_at),
            revoked_at=_aware(row.revoked_at),
        )


def parse_scopes(scopes: Iterable[str]) -> list[Scope]:
    """Valid, de-duplicated scopes in a stable order; a 422 naming the valid ones otherwise."""
    wanted = set(scopes)
    unknown = sorted(wanted - {s.value for s in Scope})
    if unknown or not wanted:
        raise InvalidInputError(
            f"Unknown scope(s): {', '.join(unknown)}." if unknown else "A token needs a scope.",
            hint="Scopes: " + ", ".join(s.value for s in Scope) + " (admin implies all).",
        )
    return [s for s in Scope if s.value in wanted]


class TokenStore:
    """The `api_tokens` table."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self.sessions = sessions

    async def create(
        self, name: str, scopes: Iterable[str], *, expires_at: datetime | None = None
    ) -> tuple[ApiToken, str]:
        """A new token and its secret; the secret is not stored and cannot be shown again."""
        if not NAME_PATTERN.fullmatch(name):
            raise InvalidInputError(
                f"Invalid token name {name!r}.",
                hint="Use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter "
                "or digit.",
            )
        granted = parse_scopes(scopes)
        if expires_at is not None and _aware(expires_at) <= utcnow():  # type: ignore[operator]
            raise InvalidInputError("The expiry is in the past.", hint="Give a future time.")
        secret = PREFIX + secrets.token_urlsafe(32)
        row = ApiTokenRow(
            name=name,
            token_hash=hash_token(secret),
            scopes=[s.value for s in granted],
            created_at=utcnow(),
            expires_at=expires_at,
        )
        try:
            async with self.sessions.begin() as session:
                session.add(row)
        except IntegrityError as exc:
            raise ConflictError(
                f"A token named '{name}' already exists.",
                hint="Names stay taken after revocation (for the audit trail); choose another.",
            ) from exc
        return ApiToken.from_row(row), secret

    async def list(self) -> list[ApiToken]:
        async with self.sessions() as session:
            rows = await session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.created_at))
            return [ApiToken.from_row(r) for r in rows]

    async def get(self, name: str) -> ApiToken | None:
        async with self.sessions() as session:
            row = await session.get(ApiTokenRow, name)
            return ApiToken.from_row(row) if row is not None else None

    async def lookup(self, secret: str) -> ApiToken | None:
        """The token whose secret this is (whatever its status), or None."""
        async with self.sessions() as session:
            row = await session.scalar(
                select(ApiTokenRow).where(ApiTokenRow.token_hash == hash_token(secret))
            )
            return ApiToken.from_row(row) if row is not None else None

    async def revoke(self, name: str) -> ApiToken:
        """Revoke a token for good; revoking a revoked token changes nothing."""
        async with self.sessions.begin() as session:
            row = await session.get(ApiTokenRow, name)
            if row is None:
                raise NotFoundError(
                    f"No token named '{name}'.",
                    hint="`toolfoundry auth list-tokens` shows the names.",
                )
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            return ApiToken.from_row(row)

    async def touch(self, name: str, when: datetime) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(ApiTokenRow).where(ApiTokenRow.name == name).values(last_used_at=when)
            )


@asynccontextmanager
async def open_token_store(settings: Settings) -> AsyncIterator[TokenStore]:
    """The token table of the configured database, without starting a whole library (CLI)."""
    engine = create_engine(settings.resolved_database_url)
    try:
        await upgrade(engine)
        yield TokenStore(session_factory(engine))
    finally:
        await engine.dispose()
