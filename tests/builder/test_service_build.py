"""The build service end to end: build, register, call, reuse; timeouts, cancellation, restarts."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from toolfoundry import Settings, ToolLibrary
from toolfoundry.builder.models import BuildRequirement, GeneratedFiles, ProgressCallback
from toolfoundry.builder.stages.workspace import BuildWorkspace
from toolfoundry.builder.strategies.base import BuildAttempt
from toolfoundry.core.models import utcnow
from toolfoundry.store.tables import BuildRow

MARKDOWN = BuildRequirement(
    description="Convert Markdown text to HTML",
    dependencies=["markdown"],
    examples=["# Hi=><h1>Hi</h1>"],
)


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
        on_progress("generated a server that sleeps")
        files = GeneratedFiles(files={"server.py": "import time\n\ntime.sleep(3600)\n"})
        return BuildAttempt(files=files, environment=env)


@pytest.fixture
def needs_sandbox(sandbox: object) -> None:
    """Skips the test where bubblewrap cannot run (see conftest's `sandbox`)."""


@pytest.mark.slow
@pytest.mark.usefixtures("needs_sandbox")
async def test_markdown_build_registers_a_sandboxed_tool_and_is_reused(
    library: ToolLibrary,
) -> None:
    record = await library.build(MARKDOWN, budget=300)
    assert record.status == "completed", record.error_message
    result = record.result
    assert result is not None and result.success and result.mcp_asset is not None
    asset = result.mcp_asset
    assert result.build_metrics.mode == "package-wrapper (no LLM configured)"
    assert [p.stage for p in result.build_metrics.phases] == [
        "environment",
        "generating",
        "security_scan",
        "validating",
        "registering",
    ]
    assert result.test_results is not None and result.test_results.passed
    assert result.iterations[0].decision.startswith("wrapped markdown.markdown")
    assert "package-wrapper (no LLM configured)" in "\n".join(record.logs)

    # Registered through the sandbox, under its own toolkit, tagged as built, callable.
    server = await library.get_mcp_server(asset.server_name)
    launch = [server.config.command or "", *server.config.args]
    # bwrap, with the seccomp filter when libseccomp is there (the launcher adds --seccomp).
    assert Path(launch[0]).name in ("bwrap", "bwrap-seccomp")
    assert Path(launch[0]).parent == library.settings.data_dir / "sandbox" or launch[0].endswith(
        "/bwrap"
    )
    assert "--unshare-net" in server.config.args
    # The registered server's limits: CPU 300 s, a 30 min lifetime, a 256 MB work dir.
    assert "--cpu=300" in launch and launch[-5:-2] == ["timeout", "--kill-after=5", "1800"]
    assert f"{256 * 1024**2} --tmpfs {asset.path}/work" in " ".join(launch)
    assert "--ro-bind / /" not in " ".join(launch)
    assert server.config.args[-1] == f"{asset.path}/server/server.py"
    assert server.toolkit == asset.server_name and server.tools == asset.tools
    tool = await library.get_tool(asset.tools[0])
    assert tool.tags == ["built", "sandbox:bubblewrap", "network:none"]
    called = await library.call(asset.tools[0], {"text": "# Hi"})
    assert called.content == "<h1>Hi</h1>"
    assert (Path(asset.path) / "server" / "server.py").is_file()
    assert not (library.settings.data_dir / "builds" / record.id).exists()

    # The same request again: the asset is reused, no new build runs.
    started = time.monotonic()
    again = await library.build(MARKDOWN, budget=30)
    reuse_s = time.monotonic() - started
    print(f"\nbuild {result.build_metrics.duration_s:.1f}s, reuse {reuse_s:.3f}s")
    assert again.status == "completed" and again.reused and again.attempts == 0
    assert again.asset_id == asset.id and reuse_s < 1.0
    assert again.result is not None and again.result.build_metrics.match == "exact"

    # A similar request (other words, another example) reuses it after checking its example.
    similar = await library.build(
        BuildRequirement(
            description="Render Markdown as HTML",
            dependencies=["markdown"],
            examples=["*x*=><p><em>x</em></p>"],
        ),
        budget=30,
    )
    assert similar.reused and similar.asset_id == asset.id
    assert similar.result is not None and similar.result.build_metrics.match == "similar"
    # An unrelated capability on the same package is not a match.
    assert not [
        m
        for m in await library.builds.repository.find_similar(
            BuildRequirement(description="Parse a CSV file into rows", dependencies=["markdown"])
        )
    ]
    assert (await library.builds.repository.get(asset.id)).reuse_count == 2


@pytest.mark.slow
@pytest.mark.usefixtures("needs_sandbox")
async def test_a_server_that_hangs_hits_the_build_timeout_and_leaves_nothing(
    library: ToolLibrary, processes_with: Callable[[str], list[int]]
) -> None:
    library.builds.register_strategy(HangingStrategy())
    record = await library.build(
        BuildRequirement(description="Sleep forever"), strategy="hang", timeout=8, budget=60
    )
    assert record.status == "failed"
    assert record.failure_type == "timeout"
    assert "exceeded its timeout of 8s during validating" in (record.error_message or "")
    assert processes_with(record.id) == []
    failures = await library.builds.repository.failures(error_class="timeout")
    assert [f.build_id for f in failures] == [record.id]


@pytest.mark.slow
@pytest.mark.usefixtures("needs_sandbox")
async def test_cancelling_a_running_build_stops_its_processes(
    library: ToolLibrary, processes_with: Callable[[str], list[int]]
) -> None:
    service = await library.builds.start()
    service.register_strategy(HangingStrategy())
    record = await service.submit(
        BuildRequirement(description="Sleep forever"), strategy="hang", timeout=300
    )
    for _ in range(200):
        if (await service.status(record.id)).status == "testing" and processes_with(record.id):
            break
        await asyncio.sleep(0.1)
    assert processes_with(record.id), "the hanging server never started"
    cancelled = await service.cancel(record.id)  # returns at once; the stop follows
    assert cancelled.status == "cancelled"
    for _ in range(50):
        if not processes_with(record.id):
            break
        await asyncio.sleep(0.1)
    assert processes_with(record.id) == []
    result = await service.result(record.id)
    assert not result.success and result.error_message == "cancelled by request"


async def test_cancelling_a_queued_build(library: ToolLibrary) -> None:
    service = library.builds  # workers not started: the build stays queued
    record = await service.submit(MARKDOWN, reuse=False)
    assert (await service.status(record.id)).status == "queued"
    cancelled = await service.cancel(record.id)
    assert (
        cancelled.status == "cancelled" and cancelled.error_message == "cancelled before it started"
    )


async def test_a_queued_build_runs_after_a_restart(settings: Settings) -> None:
    requirement = BuildRequirement(description="Something with no package to wrap")
    async with ToolLibrary.open(settings) as library:
        record = await library.builds.submit(requirement)
    assert record.status == "queued"
    async with ToolLibrary.open(settings) as library:
        await library.builds.start()
        done = await library.builds.wait(record.id, timeout=60)
    assert done.attempts == 1 and done.status == "failed"
    assert "needs a dependency" in (done.error_message or "") or done.failure_type == (
        "sandbox_unavailable"
    )


async def _insert_running(
    library: ToolLibrary, status: str, attempts: int, worker: str | None
) -> str:
    build_id = f"bld_interrupted{attempts}"
    async with library.catalog.sessions() as session:
        session.add(
            BuildRow(
                id=build_id,
                status=status,
                priority="medium",
                priority_rank=1,
                requirement=BuildRequirement(description="Something unwrappable").model_dump(),
                requirement_hash="x" * 64,
                context="",
                timeout=60,
                progress=0.7,
                current_phase="validating" if status == "testing" else "environment",
                logs=[],
                attempts=attempts,
                worker=worker,
                cancel_requested=False,
                reused=False,
                created_at=utcnow(),
                started_at=utcnow(),
                heartbeat_at=utcnow(),
            )
        )
        await session.commit()
    return build_id


async def test_an_interrupted_build_is_retried_once_then_failed_with_the_reason(
    library: ToolLibrary,
) -> None:
    # Its worker was a process on this host that no longer exists.
    dead = f"{socket.gethostname()}:999999999:gone"
    retried = await _insert_running(library, "building", attempts=1, worker=dead)
    exhausted = await _insert_running(library, "testing", attempts=2, worker=None)
    service = await library.builds.start()

    failed = await service.get(exhausted)
    assert failed.status == "failed" and failed.failure_type == "interrupted"
    assert "interrupted during validating" in (failed.error_message or "")
    assert "resubmit" in (failed.error_message or "")

    rerun = await service.wait(retried, timeout=60)
    assert rerun.status == "failed" and rerun.attempts == 2  # it ran again, then failed itself
    assert any("retrying (attempt 2 of 2)" in line for line in rerun.logs)
    assert rerun.failure_type != "interrupted"
