"""Authentication: scoped, hashed, revocable API tokens and the admin token file."""

from toolfoundry.auth.authenticator import Authenticator, Principal
from toolfoundry.auth.exposure import is_loopback, unsafe_bind
from toolfoundry.auth.scopes import Scope
from toolfoundry.auth.token_file import (
    admin_token,
    admin_token_path,
    ensure_admin_token,
    read_admin_token,
)
from toolfoundry.auth.tokens import ApiToken, TokenStore, open_token_store

__all__ = [
    "ApiToken",
    "Authenticator",
    "Principal",
    "Scope",
    "TokenStore",
    "admin_token",
    "admin_token_path",
    "ensure_admin_token",
    "is_loopback",
    "open_token_store",
    "read_admin_token",
    "unsafe_bind",
]
