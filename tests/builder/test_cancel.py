"""Cancel always wins: queued builds turn `cancelled` at once, running ones stop within seconds,
and no cancelled build ever runs again — not even after a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from toolfoundry import Settings, ToolLibrary
from toolfoundry.api.app import create_app
from toolfoundry.builder.models import BuildRequirement, GeneratedFiles, ProgressCallback
from toolfoundry.builder.stages.workspace import BuildWorkspace
from toolfoundry.builder.strategies.base import BuildAttempt


class SlowStrategy:
    """Counts the builds it starts and the ones it gets through (it sleeps 1.5 s first)."""

    name = "slow"

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []

    async def build(
        self,
        requirement: BuildRequirement,
        workspace: BuildWorkspace,
        on_progress: ProgressCallback,
    ) -> BuildAttempt:
        self.started.append(workspace.root.name)
        await asyncio.sleep(1.5)
        self.finished.append(workspace.root.name)
        raise RuntimeError("a slow build got through its work")


class HangingStrategy:
    """Generates a server that never answers MCP initialize (it sleeps on import)."""

    name = "hang"

    async def build(
        self,
        requirement: BuildRequirement,
        workspace: BuildWorkspace,
        on_progress: ProgressCallback,
    ) -> BuildAttempt:
        env = await workspace.create_environment(BuildRequirement(description="bare"))
        files = GeneratedFiles(files={"server.py": "import time\n\ntime.sleep(3600)\n"})
        return BuildAttempt(files=files, environment=env)


def test_builds_cancelled_right_after_submit_never_run_even_after_a_restart(
    settings: Settings, auth_headers: dict[str, str]
) -> None:
    strategy = SlowStrategy()
    ids: list[str] = []
    with TestClient(create_app(settings), headers=auth_headers) as client:
        service = client.app.state.library.builds  # type: ignore[attr-defined]
        service.register_strategy(strategy)
        client.portal.call(service.start)  # type: ignore[union-attr]
        for n in range(12):
            record = client.portal.call(  # type: ignore[union-attr]
                lambda n=n: service.submit(
                    BuildRequirement(description=f"Slow thing {n}"), strategy="slow"
                )
            )
            started = time.monotonic()
            response = client.post(f"/api/v1/build/{record.id}/cancel")
            assert time.monotonic() - started < 2.0, "the cancel endpoint waited"
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "cancelled"
            ids.append(record.id)
        time.sleep(2.5)  # longer than a slow build: any that slipped through would finish now
        statuses = [client.get(f"/api/v1/build/{i}/status").json()["status"] for i in ids]
        assert statuses == ["cancelled"] * 12
        assert strategy.finished == []
        # Cancelling again is a clear 409, not a hang.
        again = client.post(f"/api/v1/build/{ids[0]}/cancel")
        assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    assert not any((Path(settings.data_dir) / "builds").glob("*"))

    ran_before = list(strategy.started)

    async def restart() -> None:
        async with ToolLibrary.open(settings) as library:
            library.builds.register_strategy(strategy)
            await library.builds.start()
            await asyncio.sleep(2.5)
            builds = await library.builds.list(limit=50)
            assert sorted(r.id for r in builds) == sorted(ids)
            assert all(r.status == "cancelled" for r in builds)

    asyncio.run(restart())
    assert strategy.started == ran_before, "a cancelled build ran again after the restart"
    assert strategy.finished == []


@pytest.mark.slow
def test_cancelling_a_running_build_stops_it_within_seconds(
    settings: Settings,
    sandbox: object,
    processes_with: Callable[[str], list[int]],
    auth_headers: dict[str, str],
) -> None:
    with TestClient(create_app(settings), headers=auth_headers) as client:
        service = client.app.state.library.builds  # type: ignore[attr-defined]
        service.register_strategy(HangingStrategy())
        client.portal.call(service.start)  # type: ignore[union-attr]
        record = client.portal.call(  # type: ignore[union-attr]
            lambda: service.submit(BuildRequirement(description="Sleep"), strategy="hang")
        )
        for _ in range(300):
            status = client.get(f"/api/v1/build/{record.id}/status").json()["status"]
            if status == "testing" and processes_with(record.id):
                break
            time.sleep(0.1)
        assert processes_with(record.id), "the hanging server never started"
        started = time.monotonic()
        response = client.post(f"/api/v1/build/{record.id}/cancel")
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        assert time.monotonic() - started < 2.0
        while processes_with(record.id) and time.monotonic() - started < 5:
            time.sleep(0.1)
        assert processes_with(record.id) == [], "sandbox processes outlived the cancel"
        work_dir = Path(settings.data_dir) / "builds" / record.id
        while work_dir.exists() and time.monotonic() - started < 5:
            time.sleep(0.1)
        assert not work_dir.exists()
        result = client.get(f"/api/v1/build/{record.id}/result").json()
        assert result["success"] is False and result["error_message"] == "cancelled by request"
