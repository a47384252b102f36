"""Authentication and the request guards on the real app: every route needs a token with the
right scope, /health stays open, bodies are bounded, unknown Host names are refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from starlette.testclient import WebSocketDenialResponse

from toolfoundry import Settings
from toolfoundry.api.app import create_app
from toolfoundry.auth import TokenStore
from toolfoundry.core.models import utcnow
from toolfoundry.store.tables import ApiTokenRow


def new_token(client: TestClient, name: str, *scopes: str) -> dict[str, str]:
    store = TokenStore(client.app.state.library.catalog.sessions)  # type: ignore[attr-defined]
    _, secret = client.portal.call(store.create, name, list(scopes))  # type: ignore[union-attr]
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def anonymous(client: TestClient) -> TestClient:
    """The same running app, without the admin token (on the app's event loop: asyncpg
    connections belong to one loop)."""
    other = TestClient(client.app)
    other.portal = client.portal
    return other


def test_open_endpoints_and_401s(anonymous: TestClient) -> None:
    for path in ("/health", "/ready", "/openapi.json", "/docs"):
        assert anonymous.get(path).status_code == 200, path
    schema = anonymous.get("/openapi.json").json()  # /docs gets an Authorize button
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    missing = anonymous.get("/api/v1/tools")
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.headers["www-authenticate"] == 'Bearer realm="toolfoundry"'
    assert missing.json()["code"] == "unauthenticated"
    assert "Authorization: Bearer" in missing.json()["hint"]
    bad = anonymous.get("/api/v1/tools", headers={"Authorization": "Bearer tf_forged"})
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["www-authenticate"]
    basic = anonymous.get("/api/v1/tools", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert basic.status_code == 401
    for method, path in [
        ("GET", "/metrics"),
        ("POST", "/mcp"),
        ("POST", "/api/v1/mcp-servers"),
        ("POST", "/api/v1/tools/samples.add/call"),
        ("GET", "/no/such/page"),
    ]:
        assert anonymous.request(method, path).status_code == 401, path
    # A query token is for WebSockets only (it would end up in access logs).
    assert anonymous.get("/api/v1/tools?token=x").status_code == 401


def test_each_route_needs_its_scope(client: TestClient) -> None:
    reader = new_token(client, "reader", "read")
    caller = new_token(client, "caller", "call")
    builder = new_token(client, "builder", "build")
    add = "/api/v1/tools/samples.add/call"
    assert client.get("/api/v1/tools", headers=reader).status_code == 200
    assert client.get("/metrics", headers=reader).status_code == 200
    found = client.post("/api/v1/discover", json={"query": "add numbers"}, headers=reader)
    assert found.status_code == 200
    refused = client.post(add, json={"arguments": {"a": 1, "b": 2}}, headers=reader)
    assert refused.status_code == 403
    assert refused.json()["required_scope"] == "call" and "'call'" in refused.json()["detail"]
    assert 'error="insufficient_scope", scope="call"' in refused.headers["www-authenticate"]
    called = client.post(add, json={"arguments": {"a": 1, "b": 2}}, headers=caller)
    assert called.status_code == 200 and called.json()["structured"] == 3
    assert client.get("/api/v1/tools", headers=caller).json()["required_scope"] == "read"

    build = {"requirement": {"description": "x"}}
    assert client.post("/api/v1/build", json=build, headers=reader).status_code == 403
    assert client.post("/api/v1/build", json={}, headers=builder).status_code == 422  # past auth
    # A request's body can ask for more than its route: discovering with builds needs `build`.
    gap = {"query": "transcribe audio", "build_missing": True}
    needs_build = client.post("/api/v1/discover", json=gap, headers=reader)
    assert needs_build.status_code == 403 and needs_build.json()["required_scope"] == "build"

    for method, path, body in [
        ("POST", "/api/v1/toolkits", {"name": "x"}),
        ("PATCH", "/api/v1/tools/samples.add", {"enabled": False}),
        ("POST", "/api/v1/mcp-servers", {"name": "x", "command": "/bin/sh"}),
        ("DELETE", "/api/v1/mcp-servers/x", None),
        ("DELETE", "/api/v1/trajectories", None),
        ("PATCH", "/api/v1/tools/call", {"enabled": False}),  # a path ending in /call
    ]:
        for token in (reader, caller, builder):
            response = client.request(method, path, json=body, headers=token)
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["required_scope"] == "admin"
    assert client.patch("/api/v1/tools/samples.add", json={"enabled": False}).status_code == 200


def test_revoked_and_expired_tokens_are_refused(settings: Settings, auth_headers: dict) -> None:
    # No verification cache: a revocation by another process (the CLI) shows at once.
    app = create_app(settings.model_copy(update={"auth_cache_seconds": 0}))
    with TestClient(app, headers=auth_headers) as client:
        token = new_token(client, "short", "read")
        assert client.get("/api/v1/tools", headers=token).status_code == 200
        store = TokenStore(app.state.library.catalog.sessions)
        client.portal.call(store.revoke, "short")  # type: ignore[union-attr]
        revoked = client.get("/api/v1/tools", headers=token)
        assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]

        token = new_token(client, "old", "read")

        async def expire() -> None:
            async with store.sessions.begin() as session:
                await session.execute(
                    update(ApiTokenRow)
                    .where(ApiTokenRow.name == "old")
                    .values(expires_at=utcnow() - timedelta(seconds=1))
                )

        client.portal.call(expire)  # type: ignore[union-attr]
        expired = client.get("/api/v1/tools", headers=token)
        assert expired.status_code == 401 and "expired" in expired.json()["detail"]


def test_build_websocket_needs_a_token(client: TestClient, anonymous: TestClient) -> None:
    with pytest.raises(WebSocketDenialResponse) as denied:
        anonymous.websocket_connect("/api/v1/build/bld_nope/ws").__enter__()
    assert denied.value.status_code == 401
    token = client.headers["Authorization"].removeprefix("Bearer ")
    # Browsers cannot set headers on a WebSocket: ?token= or the subprotocols ["bearer", token].
    with anonymous.websocket_connect(f"/api/v1/build/bld_nope/ws?token={token}") as ws:
        assert ws.receive_json()["problem"]["status"] == 404  # authenticated: the build is unknown
    with anonymous.websocket_connect(
        "/api/v1/build/bld_nope/ws", subprotocols=["bearer", token]
    ) as ws:
        assert ws.accepted_subprotocol == "bearer"
        assert ws.receive_json()["type"] == "error"
    caller = new_token(client, "ws-caller", "call")["Authorization"].removeprefix("Bearer ")
    with pytest.raises(WebSocketDenialResponse) as wrong_scope:  # following a build is `read`
        anonymous.websocket_connect(f"/api/v1/build/bld_nope/ws?token={caller}").__enter__()
    assert wrong_scope.value.status_code == 403


@pytest.fixture
def small_bodies(settings: Settings, auth_headers: dict) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"max_body_bytes": 1000}))
    with TestClient(app, headers=auth_headers) as client:
        yield client


def test_bodies_over_the_limit_are_413(small_bodies: TestClient) -> None:
    big = {"query": "x" * 2000}
    declared = small_bodies.post("/api/v1/discover", json=big)
    assert declared.status_code == 413
    assert declared.json()["code"] == "payload_too_large" and declared.json()["limit_bytes"] == 1000

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        yield b'{"query": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}'

    streamed = small_bodies.post(
        "/api/v1/discover", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413 and streamed.json()["limit_bytes"] == 1000
    mcp = small_bodies.post("/mcp", content=chunks(), headers={"Content-Type": "application/json"})
    assert mcp.status_code == 413
    assert small_bodies.post("/api/v1/discover", json={"query": "add"}).status_code == 200


def test_untrusted_host_is_400(client: TestClient, settings: Settings) -> None:
    rebound = client.get("/api/v1/tools", headers={"Host": "attacker.example"})
    assert rebound.status_code == 400 and rebound.json()["code"] == "untrusted_host"
    assert "TOOLFOUNDRY_ALLOWED_HOSTS" in rebound.json()["hint"]
    assert client.get("/health", headers={"Host": "attacker.example:8765"}).status_code == 400
    for host in ("localhost:8765", "127.0.0.1", "[::1]:8765"):
        assert client.get("/health", headers={"Host": host}).status_code == 200, host
    app = create_app(settings.model_copy(update={"allowed_hosts": "*.example.org,api.test"}))
    with TestClient(app) as other:
        assert other.get("/health", headers={"Host": "tools.example.org"}).status_code == 200
        assert other.get("/health", headers={"Host": "api.test:443"}).status_code == 200
        assert other.get("/health", headers={"Host": "example.org.evil"}).status_code == 400
    with TestClient(create_app(settings.model_copy(update={"allowed_hosts": "*"}))) as anyhost:
        assert anyhost.get("/health", headers={"Host": "attacker.example"}).status_code == 200


def test_public_metrics_and_auth_off_only_for_loopback_callers(settings: Settings) -> None:
    public = settings.model_copy(update={"metrics_public": True, "auth": False})
    # TestClient's peer is "testclient", not a loopback address: auth off does not cover it.
    with TestClient(create_app(public)) as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/api/v1/tools").status_code == 401


async def test_auth_off_serves_loopback_callers_with_a_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio
    import socket

    import httpx
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(settings.model_copy(update={"auth": False}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/api/v1/tools")).status_code == 200
    finally:
        server.should_exit = True
        await task
    assert "authentication is OFF" in caplog.text
    assert not (settings.data_dir / "admin.token").exists()
