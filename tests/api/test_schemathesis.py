"""Property-based API run (schemathesis): every operation of the OpenAPI document, a few hundred
generated requests against the ASGI app over a real SQLite catalog — no answer is a 5xx (503 is
allowed only as the documented "overloaded"/"backend unavailable" problem), and every status is
documented."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import status_code_conformance

from toolfoundry import Settings
from toolfoundry.api.app import create_app

EXAMPLES_PER_OPERATION = 6  # x ~30 operations x valid and invalid input: a few hundred


@pytest.fixture
def api_app(settings: Settings) -> FastAPI:
    # The starter toolkits give the generated calls real tools to hit.
    return create_app(settings.model_copy(update={"load_starters": True}))


@pytest.fixture
def api_session(api_app: FastAPI, auth_headers: dict[str, str]) -> Iterator[Any]:
    with asgi.get_client(api_app) as client:  # one lifespan for the whole run
        client.headers.update(auth_headers)
        yield client


@pytest.mark.slow
def test_no_input_makes_the_api_fail(
    api_app: FastAPI, api_session: Any, auth_headers: dict[str, str], database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("one database is enough for the property run")
    # Builds run real package installs in the background: their submission is tested elsewhere.
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app).exclude(
        method="POST", path="/api/v1/build"
    )
    failures: list[str] = []
    requests = 0

    for result, mode in itertools.product(
        list(schema.get_all_operations()), (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ):
        operation = result.ok()

        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            nonlocal requests
            requests += 1
            response = case.call(session=api_session, headers=auth_headers)
            where = f"{case.method} {case.formatted_path} {case.query or ''}"
            if response.status_code >= 500:
                body = response.json() if "json" in response.headers.get("content-type", "") else {}
                if not (
                    response.status_code == 503
                    and body.get("code") in ("overloaded", "backend_unavailable")
                ):
                    failures.append(f"{where} → {response.status_code}: {response.text[:300]}")
            try:
                case.validate_response(response, checks=[status_code_conformance])
            except BaseException as exc:  # collected: the report lists every operation at fault
                failures.append(f"{where} → {response.status_code}: {str(exc)[:300]}")

        with contextlib.suppress(Unsatisfiable):  # no invalid input exists (no parameters)
            check()
    print(f"\nschemathesis: {requests} requests")
    assert requests >= 200
    assert not failures, "\n".join(sorted(set(failures))[:40])
