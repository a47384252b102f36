"""A capability gap found by discovery, closed end to end by the LLM strategy (stub model):
discover → gap → build (a failing first attempt, a healed second) → registered → discovered."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
from openai_stub import OpenAIStub
from test_llm_loop import add_script

from toolfoundry import Settings, ToolLibrary
from toolfoundry.api.app import create_app
from toolfoundry.auth import read_admin_token
from toolfoundry.builder.stages.sandbox import sandbox_available

pytestmark = pytest.mark.skipif(
    not sandbox_available().available, reason=sandbox_available().reason or "no sandbox"
)


def stub_settings(tmp_path: Path, url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}",
        load_starters=False,
        llm_model="openai:stub",
        llm_base_url=url,
    )


@pytest.mark.slow
async def test_gap_from_discovery_is_built_registered_and_found(tmp_path: Path) -> None:
    with OpenAIStub(script=add_script) as stub:
        async with ToolLibrary.open(stub_settings(tmp_path, stub.url)) as library:
            before = await library.discover("add two integers", mode="retrieval")
            assert [g.description for g in before.gaps] == ["add two integers"]

            after, resolutions = await library.discover_and_build(
                "add two integers", mode="retrieval", budget=300
            )
            assert [r.status for r in resolutions] == ["built"], resolutions[0].message
            new_tool = resolutions[0].tools[0]
            assert after.tools[0].id == new_tool and after.gaps == []
            build = await library.builds.get(resolutions[0].build_id or "")
            assert build.result is not None
            assert [i.outcome for i in build.result.iterations] == ["failed", "passed"]
            called = await library.call(new_tool, {"a": 2, "b": 3})
            assert called.structured in ({"result": 5}, 5)

            # The same gap again reuses the stored asset instead of building.
            again = await library.handle_capability_gap(before.gaps[0], budget=30)
            assert again.status == "reused" and again.tools == resolutions[0].tools
    # Two code generations in all: the failure of the first reached the second's prompt.
    assert len([r for r in stub.requests if not r.tools]) == 2


def test_discover_build_missing_over_rest_without_a_model(tmp_path: Path) -> None:
    """No model: the package-wrapper strategy cannot build from a bare gap (no package named);
    the answer says so instead of failing the request."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}",
        load_starters=False,
    )
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        client.headers["Authorization"] = f"Bearer {read_admin_token(tmp_path)}"
        response = client.post(
            "/api/v1/discover",
            json={"query": "transcribe an audio file", "build_missing": True, "budget": 60},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["gaps"] and body["gap_resolutions"][0]["status"] == "failed"
        assert body["gap_resolutions"][0]["message"]
        bad = client.post("/api/v1/discover", json={"query": "x", "budget": -1})
        assert bad.status_code == 422
