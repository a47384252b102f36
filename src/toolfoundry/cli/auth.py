"""`toolfoundry auth`: API tokens (create, list, revoke) and the admin token file."""

from __future__ import annotations

import re
import sys
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from toolfoundry.cli.output import JsonOption, console, err_console, fail, print_json, run

if TYPE_CHECKING:
    from toolfoundry.auth import TokenStore


def _store() -> AbstractAsyncContextManager[TokenStore]:
    """The token store, imported on use: `toolfoundry --help` must not load the auth stack."""
    from toolfoundry.auth import open_token_store
    from toolfoundry.core.settings import get_settings

    return open_token_store(get_settings())


auth_app = typer.Typer(
    help="API tokens for the REST API and the MCP gateway.", no_args_is_help=True
)

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`90d`, `12h`, `30m`, `45s`, `2w` or plain seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text)
    if not match or float(match[1]) <= 0:
        fail(f"invalid duration {text!r}", "Use e.g. 90d, 12h, 30m, 45s or a number of seconds.")
    assert match is not None
    return timedelta(**{UNITS[match[2] or "s"]: float(match[1])})


@auth_app.command("create-token")
@run
async def create_token(
    name: Annotated[str, typer.Option("--name", help="A unique name, e.g. the agent's.")],
    scope: Annotated[
        list[str],
        typer.Option("--scope", help="read, call, build or admin (admin implies all); repeat."),
    ],
    expires_in: Annotated[
        str | None, typer.Option("--expires-in", help="Lifetime, e.g. 90d or 12h; default: none.")
    ] = None,
    as_json: bool = JsonOption,
) -> None:
    """Create a token and print it once: only its hash is stored."""
    expires_at = datetime.now(UTC) + parse_duration(expires_in) if expires_in else None
    async with _store() as store:
        token, secret = await store.create(name, scope, expires_at=expires_at)
    if as_json:
        print_json({"token": secret, **token.model_dump(mode="json")})
        return
    sys.stdout.write(secret + "\n")
    scopes = ", ".join(token.scopes)
    err_console.print(f"[dim]token '{token.name}' ({scopes}) — shown once; store it now[/]")


@auth_app.command("list-tokens")
@run
async def list_tokens(as_json: bool = JsonOption) -> None:
    """Every token with its scopes, times and status (never the secrets)."""
    async with _store() as store:
        tokens = await store.list()
    if as_json:
        print_json(tokens)
        return
    table = Table()
    for column in ("name", "scopes", "status", "created", "last used", "expires"):
        table.add_column(column)
    fmt = "%Y-%m-%d %H:%M"
    for t in tokens:
        table.add_row(
            t.name,
            ",".join(t.scopes),
            t.status,
            t.created_at.strftime(fmt),
            t.last_used_at.strftime(fmt) if t.last_used_at else "",
            t.expires_at.strftime(fmt) if t.expires_at else "",
        )
    console.print(table)


@auth_app.command("revoke-token")
@run
async def revoke_token(
    name: Annotated[str, typer.Argument(help="The token's name.")], as_json: bool = JsonOption
) -> None:
    """Revoke a token for good (running servers stop accepting it within seconds)."""
    async with _store() as store:
        token = await store.revoke(name)
    if as_json:
        print_json(token)
        return
    console.print(f"token '{token.name}' revoked")


@auth_app.command("token")
@run
async def show_admin_token() -> None:
    """Print the admin token from the data directory (made on the first `serve`, or now)."""
    from toolfoundry.auth import admin_token
    from toolfoundry.core.settings import get_settings

    sys.stdout.write(await admin_token(get_settings()) + "\n")
