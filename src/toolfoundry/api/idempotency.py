"""Idempotency keys for REST tool calls (Stripe-style).

A call sent with `Idempotency-Key: K` records K with a hash of the request before it runs. A
repeat of K with the same request within the TTL gets the stored response without running the
tool again; with another request it is a 422; while the first is still running, a 409. Keys are
rows in the catalog database, so every replica and a restarted process see them.

Keys belong to their caller (the token, or "anonymous" with auth off): the same key from
another token is another key, so nobody can read someone else's answer by guessing keys.
The row stores a hash of (caller, key), which also keeps it within the column's 255 characters.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from toolfoundry.core.errors import ConflictError, InvalidInputError
from toolfoundry.core.models import utcnow
from toolfoundry.store.tables import IdempotencyKeyRow

HEADER = "Idempotency-Key"
_PURGE_ONE_IN = 256  # expired keys are swept by an occasional request, no background task


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]


def request_hash(*parts: Any) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def row_key(owner: str | None, key: str) -> str:
    """The stored key: `key` as sent by `owner` (a principal's name; None when auth is off)."""
    return "k1:" + request_hash("anonymous" if owner is None else f"principal:{owner}", key)


class IdempotencyStore:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], ttl: timedelta, owner: str | None
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._owner = owner

    async def begin(self, key: str, digest: str) -> StoredResponse | None:
        """Claim `key` for this request (None: go ahead and run it), or the stored response
        of the earlier request with the same key from the same caller."""
        sent, key = key, row_key(self._owner, key)
        now = utcnow()
        for _ in range(3):  # an expired key is deleted and claimed again
            try:
                async with self._sessions() as session:
                    session.add(IdempotencyKeyRow(key=key, request_hash=digest, created_at=now))
                    await session.commit()
            except IntegrityError:
                pass
            else:
                if random.randrange(_PURGE_ONE_IN) == 0:
                    await self._purge()
                return None
            async with self._sessions() as session:
                row = await session.get(IdempotencyKeyRow, key)
                if row is None:
                    continue
                created = row.created_at
                if created.tzinfo is None:  # SQLite drops the offset; we store UTC
                    created = created.replace(tzinfo=now.tzinfo)
                if now - created > self._ttl:
                    await session.delete(row)
                    await session.commit()
                    continue
            if row.request_hash != digest:
                raise InvalidInputError(
                    f"the {HEADER} {sent!r} was already used with a different request",
                    hint=f"Use a new {HEADER} for a different call; a key is bound to its first "
                    "request for "
                    f"{self._ttl.total_seconds() / 3600:g} h.",
                )
            if row.status_code is None or row.response is None:
                raise ConflictError(
                    f"a request with {HEADER} {sent!r} is still running",
                    hint="Retry the same request in a moment to get its response.",
                )
            return StoredResponse(row.status_code, row.response)
        raise ConflictError(f"the {HEADER} {sent!r} is contended", hint="Retry in a moment.")

    async def finish(self, key: str, status_code: int, body: dict[str, Any]) -> None:
        key = row_key(self._owner, key)
        async with self._sessions() as session:
            await session.execute(
                update(IdempotencyKeyRow)
                .where(IdempotencyKeyRow.key == key)
                .values(status_code=status_code, response=body)
            )
            await session.commit()

    async def abandon(self, key: str) -> None:
        """Forget a key whose request did not run (or may safely run again)."""
        key = row_key(self._owner, key)
        async with self._sessions() as session:
            await session.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.key == key))
            await session.commit()

    async def _purge(self) -> None:
        async with self._sessions() as session:
            await session.execute(
                delete(IdempotencyKeyRow).where(IdempotencyKeyRow.created_at < utcnow() - self._ttl)
            )
            await session.commit()
