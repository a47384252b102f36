"""What the bubblewrap sandbox enforces, each shown by a process that tries to break out."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from toolfoundry.builder import (
    BubblewrapSandbox,
    ResourceLimits,
    SandboxSpec,
    UnsandboxedRunner,
)

pytestmark = pytest.mark.slow


def _spec(work_dir: Path, **changes: object) -> SandboxSpec:
    return SandboxSpec(cwd=work_dir, writable=[work_dir]).model_copy(update=changes)


def _exists(path: str | Path) -> bool:
    return Path(path).exists()


async def test_command_line_carries_every_restriction(work_dir: Path) -> None:
    prefix = BubblewrapSandbox().command_prefix(
        SandboxSpec(cwd=work_dir, writable=[work_dir], limits=ResourceLimits(cpu_seconds=7))
    )
    joined = " ".join(prefix)
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--new-session"):
        assert flag in prefix
    assert "--ro-bind / /" in joined
    assert "--tmpfs /tmp" in joined
    assert f"--bind {work_dir} {work_dir}" in joined
    assert "--cpu=7" in prefix and "--nproc=256" in prefix and "--fsize=67108864" in prefix
    if os.geteuid() == 0:
        assert "--reuid=65534" in prefix and "--no-new-privs" in prefix


async def test_runs_as_nobody_in_a_clean_environment(
    sandbox: BubblewrapSandbox, work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOLFOUNDRY_SECRET_FOR_TEST", "leak")
    run = await sandbox.run(["sh", "-c", "id -u; id -g; env"], _spec(work_dir), timeout=10)
    assert run.ok, run.stderr
    uid, gid, *env = run.stdout.splitlines()
    assert (uid, gid) == ("65534", "65534")
    assert not any("TOOLFOUNDRY_SECRET_FOR_TEST" in line for line in env)
    assert "HOME=/home/sandbox" in env


async def test_no_network_neither_host_loopback_nor_internet(
    sandbox: BubblewrapSandbox, work_dir: Path, host_python: str, listener: object
) -> None:
    port = listener.port  # type: ignore[attr-defined]
    script = (
        "import socket\n"
        f"for host, port in (('127.0.0.1', {port}), ('1.1.1.1', 443)):\n"
        "    try:\n"
        "        socket.create_connection((host, port), timeout=3).close()\n"
        "        print(host, 'connected')\n"
        "    except OSError as exc:\n"
        "        print(host, 'blocked', exc)\n"
    )
    run = await sandbox.run([host_python, "-c", script], _spec(work_dir), timeout=20)
    assert run.ok, run.stderr
    assert "127.0.0.1 blocked" in run.stdout and "1.1.1.1 blocked" in run.stdout
    assert listener.connections == 0  # type: ignore[attr-defined]


async def test_granted_network_reaches_the_host(
    sandbox: BubblewrapSandbox, work_dir: Path, host_python: str, listener: object
) -> None:
    port = listener.port  # type: ignore[attr-defined]
    script = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3).close()"
    run = await sandbox.run([host_python, "-c", script], _spec(work_dir, network=True), timeout=20)
    assert run.ok, run.stderr
    await asyncio.sleep(0.5)
    assert listener.connections == 1  # type: ignore[attr-defined]


async def test_filesystem_is_read_only_outside_the_work_dir(
    sandbox: BubblewrapSandbox, work_dir: Path, tmp_path: Path
) -> None:
    code_dir = tmp_path / "code"
    code_dir.mkdir(mode=0o755)
    home = Path.home()
    script = (
        f"for target in /etc/tf-sandbox-test {home}/tf-sandbox-test {code_dir}/x; do "
        '  if echo x > "$target" 2>/dev/null; then echo "$target written"; '
        '  else echo "$target refused"; fi; '
        f"done; echo data > ok.txt && echo workdir-written; ls -A {home} | wc -l"
    )
    spec = _spec(work_dir, read_only=[code_dir])
    run = await sandbox.run(["sh", "-c", script], spec, timeout=10)
    assert "written" not in run.stdout.replace("workdir-written", ""), run.stdout
    assert "workdir-written" in run.stdout
    assert (work_dir / "ok.txt").read_text() == "data\n"
    assert not _exists("/etc/tf-sandbox-test")
    assert not _exists(home / "tf-sandbox-test")
    assert run.stdout.strip().endswith("0")  # the host's home is an empty tmpfs inside


async def test_cpu_limit_kills_a_busy_loop(
    sandbox: BubblewrapSandbox, work_dir: Path, host_python: str
) -> None:
    spec = _spec(work_dir, limits=ResourceLimits(cpu_seconds=1))
    run = await sandbox.run([host_python, "-c", "while True: pass"], spec, timeout=30)
    assert not run.timed_out and run.duration_s < 10
    assert run.returncode != 0


async def test_memory_limit_stops_a_memory_hog(
    sandbox: BubblewrapSandbox, work_dir: Path, host_python: str
) -> None:
    spec = _spec(work_dir, limits=ResourceLimits(memory_bytes=256 * 1024**2))
    hog = "data = bytearray(1024 ** 3); print('allocated')"
    run = await sandbox.run([host_python, "-c", hog], spec, timeout=30)
    assert run.returncode != 0
    assert "MemoryError" in run.stderr and "allocated" not in run.stdout


async def test_fork_bomb_is_contained(
    sandbox: BubblewrapSandbox, work_dir: Path, processes_with: Callable[[str], list[int]]
) -> None:
    spec = _spec(work_dir, limits=ResourceLimits(processes=40))
    bomb = "bomb() { bomb | bomb & }; bomb; sleep 3; echo survived"
    run = await sandbox.run(["bash", "-c", bomb], spec, timeout=20)
    assert not run.timed_out
    assert "Resource temporarily unavailable" in run.stderr or "retry" in run.stderr
    await asyncio.sleep(0.2)
    assert processes_with("bomb() { bomb") == []


async def test_file_size_limit(sandbox: BubblewrapSandbox, work_dir: Path) -> None:
    spec = _spec(work_dir, limits=ResourceLimits(file_size_bytes=1024 * 1024))
    run = await sandbox.run(["sh", "-c", "head -c 5000000 /dev/zero > big.bin"], spec, timeout=10)
    assert run.returncode != 0
    assert (work_dir / "big.bin").stat().st_size <= 1024 * 1024


async def test_timeout_kills_the_process_group(
    sandbox: BubblewrapSandbox, work_dir: Path, processes_with: Callable[[str], list[int]]
) -> None:
    run = await sandbox.run(["sh", "-c", "sleep 1001.5 & sleep 1001.5"], _spec(work_dir), timeout=1)
    assert run.timed_out and run.returncode is None
    await asyncio.sleep(0.2)
    assert processes_with("sleep 1001.5") == []


async def test_cancellation_kills_the_process_group(
    sandbox: BubblewrapSandbox, work_dir: Path, processes_with: Callable[[str], list[int]]
) -> None:
    task = asyncio.create_task(
        sandbox.run(["sh", "-c", "sleep 1002.5 & sleep 1002.5"], _spec(work_dir), timeout=60)
    )
    await asyncio.sleep(1)
    assert processes_with("sleep 1002.5")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.2)
    assert processes_with("sleep 1002.5") == []


async def test_started_server_is_stopped_with_its_children(
    sandbox: BubblewrapSandbox, work_dir: Path, processes_with: Callable[[str], list[int]]
) -> None:
    process = await sandbox.start(["sh", "-c", "sleep 1003.5 & cat"], _spec(work_dir))
    async with process:
        assert process.process.stdin is not None and process.process.stdout is not None
        process.process.stdin.write(b"ping\n")
        await process.process.stdin.drain()
        assert await asyncio.wait_for(process.process.stdout.readline(), 10) == b"ping\n"
    await asyncio.sleep(0.2)
    assert processes_with("sleep 1003.5") == []


async def test_unsandboxed_runner_warns_every_time(
    work_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runner = UnsandboxedRunner()
    with caplog.at_level(logging.WARNING, logger="toolfoundry.builder.sandbox"):
        first = await runner.run(["sh", "-c", "pwd"], _spec(work_dir), timeout=10)
        await runner.run(["true"], _spec(work_dir), timeout=10)
    assert first.stdout.strip() == str(work_dir)
    warnings = [r for r in caplog.records if "WITHOUT a sandbox" in r.getMessage()]
    assert len(warnings) == 2


@pytest.mark.usefixtures("sandbox")
async def test_unprivileged_caller_uses_a_user_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    """As an ordinary user bwrap maps the caller to 65534 itself; shown by running as uid 1000."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to uid 1000")
    if not _exists("/usr/bin/setpriv"):
        pytest.skip("setpriv missing")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    sandbox = BubblewrapSandbox()
    monkeypatch.undo()
    work_dir = Path(tempfile.mkdtemp(prefix="tf-userns-", dir="/tmp"))
    try:
        os.chown(work_dir, 1000, 1000)
        spec = SandboxSpec(cwd=work_dir, writable=[work_dir])
        prefix = sandbox.command_prefix(spec)
        assert "--unshare-user" in prefix and "setpriv" not in prefix
        process = await asyncio.create_subprocess_exec(
            "setpriv",
            "--reuid=1000",
            "--regid=1000",
            "--clear-groups",
            "--",
            *prefix,
            "sh",
            "-c",
            "id -u; touch ok && echo written; echo x > /etc/x || echo refused",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
        if process.returncode != 0 and b"namespace" in stderr:
            pytest.skip(f"unprivileged user namespaces unavailable: {stderr.decode().strip()}")
        assert stdout.decode().split() == ["65534", "written", "refused"], stderr
    finally:
        shutil.rmtree(work_dir)
