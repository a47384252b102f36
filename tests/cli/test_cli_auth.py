"""`toolfoundry auth …` against a real catalog database, and the tokens it makes used on the
real app; `serve` refusing a non-loopback bind with auth off."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from toolfoundry import Settings
from toolfoundry.api.app import create_app
from toolfoundry.cli.main import app
from toolfoundry.core.settings import get_settings

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("TOOLFOUNDRY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TOOLFOUNDRY_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TOOLFOUNDRY_LOAD_STARTERS", "false")
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.output


def test_create_list_revoke(env: Settings) -> None:
    secret = invoke("auth", "create-token", "--name", "agent", "--scope", "read", "--scope", "call")
    secret = secret.strip()
    assert secret.startswith("tf_")
    made = json.loads(invoke("auth", "create-token", "--name", "ci", "--scope", "build", "--json"))
    assert made["token"].startswith("tf_") and made["scopes"] == ["build"]
    dated = invoke(
        "auth", "create-token", "--name", "temp", "--scope", "read", "--expires-in", "2h"
    )
    assert dated.strip().startswith("tf_")

    listed = json.loads(invoke("auth", "list-tokens", "--json"))
    assert [t["name"] for t in listed] == ["agent", "ci", "temp"]
    assert listed[0]["scopes"] == ["read", "call"] and listed[0]["status"] == "active"
    assert listed[2]["expires_at"] is not None
    text = json.dumps(listed) + invoke("auth", "list-tokens")
    assert secret not in text and made["token"] not in text and "agent" in text

    revoked = json.loads(invoke("auth", "revoke-token", "agent", "--json"))
    assert revoked["status"] == "revoked"
    assert "revoked" in invoke("auth", "revoke-token", "ci")
    statuses = {t["name"]: t["status"] for t in json.loads(invoke("auth", "list-tokens", "--json"))}
    assert statuses == {"agent": "revoked", "ci": "revoked", "temp": "active"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "x", "--scope", "root"], "Unknown scope"),
        (["--name", "bad name", "--scope", "read"], "Invalid token name"),
        (["--name", "x", "--scope", "read", "--expires-in", "soon"], "invalid duration"),
        (["--name", "x", "--scope", "read", "--expires-in", "0"], "invalid duration"),
    ],
)
def test_bad_input_is_refused(env: Settings, args: list[str], message: str) -> None:
    assert message in invoke("auth", "create-token", *args, code=1)
    assert json.loads(invoke("auth", "list-tokens", "--json")) == []


def test_duplicate_and_unknown_names(env: Settings) -> None:
    invoke("auth", "create-token", "--name", "agent", "--scope", "read")
    assert "already exists" in invoke(
        "auth", "create-token", "--name", "agent", "--scope", "read", code=1
    )
    assert "No token named 'ghost'" in invoke("auth", "revoke-token", "ghost", code=1)


def test_admin_token_file_and_cli_tokens_on_the_app(env: Settings) -> None:
    admin = invoke("auth", "token").strip()
    path = env.data_dir / "admin.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(env.data_dir.stat().st_mode) == 0o700
    assert invoke("auth", "token").strip() == admin  # the same token every time
    reader = invoke("auth", "create-token", "--name", "reader", "--scope", "read").strip()

    # The app started on this data directory keeps the file's token; no verification cache so
    # the CLI's revocation (another connection, as from another process) shows at once.
    with TestClient(create_app(env.model_copy(update={"auth_cache_seconds": 0}))) as client:
        assert path.read_text().strip() == admin
        as_admin = {"Authorization": f"Bearer {admin}"}
        as_reader = {"Authorization": f"Bearer {reader}"}
        assert client.get("/api/v1/tools", headers=as_admin).status_code == 200
        assert client.get("/api/v1/tools", headers=as_reader).status_code == 200
        invoke("auth", "revoke-token", "reader")
        assert client.get("/api/v1/tools", headers=as_reader).status_code == 401
    last_used = {
        t["name"]: t["last_used_at"] for t in json.loads(invoke("auth", "list-tokens", "--json"))
    }
    assert last_used["admin"] is not None and last_used["reader"] is not None


@pytest.mark.parametrize("command", [["serve"], ["builder", "serve"]])
def test_no_public_bind_without_auth(
    env: Settings, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("TOOLFOUNDRY_AUTH", "off")
    get_settings.cache_clear()
    refused = invoke(*command, "--host", "0.0.0.0", "--port", "9", code=1)
    assert "refusing to serve on 0.0.0.0 with TOOLFOUNDRY_AUTH=off" in refused
