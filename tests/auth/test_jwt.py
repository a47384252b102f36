"""JWTs from an identity provider: verified against a JWKS served over real HTTP, their scope
claim mapped to toolfoundry scopes, on the real app next to opaque tokens."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from fastmcp.server.auth.providers.jwt import RSAKeyPair
from joserfc import jwk

from toolfoundry import Settings
from toolfoundry.api.app import create_app

ISSUER = "https://idp.example.com"
AUDIENCE = "toolfoundry"


@pytest.fixture(scope="module")
def keys() -> RSAKeyPair:
    return RSAKeyPair.generate()


@pytest.fixture(scope="module")
def jwks_url(keys: RSAKeyPair) -> Iterator[str]:
    key = jwk.RSAKey.import_key(keys.public_key).as_dict()
    body = json.dumps({"keys": [{**key, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def test_jwts_from_an_identity_provider(
    settings: Settings, auth_headers: dict[str, str], keys: RSAKeyPair, jwks_url: str
) -> None:
    configured = settings.model_copy(
        update={
            "jwt_jwks_url": jwks_url,
            "jwt_issuer": ISSUER,
            "jwt_audience": AUDIENCE,
            "jwt_scope_prefix": "toolfoundry:",
        }
    )

    def bearer(**options: object) -> dict[str, str]:
        claims: dict = {"issuer": ISSUER, "audience": AUDIENCE, "kid": "k1", **options}
        return {"Authorization": f"Bearer {keys.create_token(**claims)}"}

    with TestClient(create_app(configured)) as client:
        reader = bearer(subject="alice", scopes=["toolfoundry:read", "openid", "read"])
        assert client.get("/api/v1/tools", headers=reader).status_code == 200
        refused = client.post("/api/v1/tools/x.y/call", json={}, headers=reader)
        assert refused.status_code == 403 and refused.json()["token_scopes"] == ["read"]
        admin = bearer(scopes=["toolfoundry:admin"])
        assert (
            client.post("/api/v1/toolkits", json={"name": "jwt"}, headers=admin).status_code == 201
        )

        for bad in (
            bearer(audience="someone-else", scopes=["toolfoundry:read"]),
            bearer(issuer="https://evil.example", scopes=["toolfoundry:read"]),
            bearer(expires_in_seconds=-60, scopes=["toolfoundry:read"]),
            {
                "Authorization": "Bearer "
                + RSAKeyPair.generate().create_token(
                    issuer=ISSUER, audience=AUDIENCE, kid="k1", scopes=["toolfoundry:admin"]
                )
            },
        ):
            response = client.get("/api/v1/tools", headers=bad)
            assert response.status_code == 401 and "JWT is not valid" in response.json()["detail"]
        # Opaque tokens keep working next to JWTs.
        assert client.get("/api/v1/tools", headers=auth_headers).status_code == 200
