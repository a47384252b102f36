"""Tokens in a real database: hashed at rest, scoped, revocable, expiring; the admin token
file; the authenticator's cache."""

from __future__ import annotations

import stat
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from toolfoundry import Settings, ToolLibrary
from toolfoundry.auth import (
    Authenticator,
    Scope,
    TokenStore,
    admin_token_path,
    ensure_admin_token,
    read_admin_token,
)
from toolfoundry.core.errors import (
    AuthenticationError,
    ConflictError,
    InsufficientScopeError,
    InvalidInputError,
    NotFoundError,
)
from toolfoundry.core.models import utcnow
from toolfoundry.store.tables import ApiTokenRow


@pytest.fixture
def store(library: ToolLibrary) -> TokenStore:
    return TokenStore(library.catalog.sessions)


async def test_created_tokens_are_stored_hashed_and_listed_without_secrets(
    store: TokenStore,
) -> None:
    token, secret = await store.create("agent", ["call", "read", "read"])
    assert secret.startswith("tf_") and len(secret) > 40
    assert token.scopes == [Scope.read, Scope.call] and token.status == "active"
    async with store.sessions() as session:
        row = (await session.scalars(select(ApiTokenRow))).one()
    assert secret not in (row.token_hash, row.name) and len(row.token_hash) == 64
    (listed,) = await store.list()
    assert "token" not in listed.model_dump() and listed.name == "agent"
    assert (await store.lookup(secret)) == listed
    assert await store.lookup(secret + "x") is None


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("ok", ["root"], "Unknown scope"),
        ("ok", [], "needs a scope"),
        ("bad name!", ["read"], "Invalid token name"),
        ("", ["read"], "Invalid token name"),
    ],
)
async def test_bad_tokens_are_refused(
    store: TokenStore, name: str, scopes: list[str], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        await store.create(name, scopes)
    with pytest.raises(InvalidInputError, match="past"):
        await store.create("late", ["read"], expires_at=utcnow() - timedelta(seconds=1))
    assert await store.list() == []


async def test_names_are_unique_and_revocation_is_final(store: TokenStore) -> None:
    await store.create("agent", ["read"])
    with pytest.raises(ConflictError, match="already exists"):
        await store.create("agent", ["admin"])
    revoked = await store.revoke("agent")
    assert revoked.status == "revoked"
    assert (await store.revoke("agent")).revoked_at == revoked.revoked_at
    with pytest.raises(NotFoundError, match="nobody") as missing:
        await store.revoke("nobody")
    assert "list-tokens" in (missing.value.hint or "")


async def test_authenticator_checks_status_scope_and_records_use(store: TokenStore) -> None:
    auth = Authenticator(store, cache_seconds=60)
    _, secret = await store.create("reader", ["read"])
    principal = await auth.authenticate(secret)
    assert principal.name == "reader" and principal.allows(Scope.read)
    with pytest.raises(InsufficientScopeError, match="'call' scope") as refused:
        principal.require(Scope.call)
    assert refused.value.to_problem()["required_scope"] == "call"
    assert (await store.get("reader")).last_used_at is not None  # type: ignore[union-attr]

    for secret_ in (None, "", "tf_unknown"):
        with pytest.raises(AuthenticationError):
            await auth.authenticate(secret_)

    # Expiry is checked on every use, cached or not.
    async with store.sessions.begin() as session:
        await session.execute(
            update(ApiTokenRow).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    auth.forget("reader")  # the cache holds the old expiry for up to cache_seconds
    with pytest.raises(AuthenticationError, match="expired"):
        await auth.authenticate(secret)

    _, admin = await store.create("root", ["admin"])
    root = await auth.authenticate(admin)
    assert all(root.allows(s) for s in Scope)
    await store.revoke("root")
    assert (await auth.authenticate(admin)).name == "root"  # cached: revoked elsewhere
    auth.forget()
    with pytest.raises(AuthenticationError, match="revoked"):
        await auth.authenticate(admin)
    fresh = Authenticator(store, cache_seconds=0)
    with pytest.raises(AuthenticationError, match="revoked"):
        await fresh.authenticate(admin)


async def test_admin_token_file_is_owner_only_and_kept(settings: Settings) -> None:
    async with ToolLibrary.open(settings) as library:
        store = TokenStore(library.catalog.sessions)
        settings.data_dir.chmod(0o755)
        path = await ensure_admin_token(store, settings.data_dir)
        assert path == admin_token_path(settings.data_dir)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(settings.data_dir.stat().st_mode) == 0o700
        first = read_admin_token(settings.data_dir)
        await ensure_admin_token(store, settings.data_dir)
        assert read_admin_token(settings.data_dir) == first  # kept across starts

        await store.revoke("admin")  # a revoked (or foreign) token in the file is replaced
        await ensure_admin_token(store, settings.data_dir)
        second = read_admin_token(settings.data_dir)
        assert second != first
        token = await store.lookup(second)  # type: ignore[arg-type]
        assert token is not None and token.name.startswith("admin-") and token.scopes == ["admin"]
