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

import toolfoundry
from toolfoundry.builder.stages.sandbox import (
    BubblewrapSandbox,
    ResourceLimits,
    SandboxSpec,
    UnsandboxedRunner,
)

pytestmark = pytest.mark.slow


def _spec(work_dir: Path, **changes: object) -> SandboxSpec:
    return SandboxSpec(cwd=work_dir, writable=[work_dir]).model_copy(update=changes)


SOURCE_TREE = Path(toolfoundry.__file__).resolve().parents[2]


def _exists(path: str | Path) -> bool:
    return Path(path).exists()


def _listing(directory: Path) -> list[Path]:
    return list(directory.iterdir())


SANDBOX_UIDS = range(61000, 62000)


def _expected_uids() -> range:
    return SANDBOX_UIDS if os.geteuid() == 0 else range(65534, 65535)


def test_command_line_carries_every_restriction(work_dir: Path) -> None:
    limits = ResourceLimits(cpu_seconds=7, disk_bytes=8 * 1024**2, wall_seconds=60)
    prefix = BubblewrapSandbox().command_prefix(
        SandboxSpec(cwd=work_dir, writable=[work_dir], limits=limits)
    )
    joined = " ".join(prefix)
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--new-session"):
        assert flag in prefix
    assert "--ro-bind / /" not in joined  # never the host's root
    assert "--ro-bind /usr/lib /usr/lib" in joined and "--ro-bind /etc/passwd" in joined
    sandbox = BubblewrapSandbox()
    assert sandbox.seccomp_path is not None and Path(prefix[0]).name == "bwrap-seccomp"
    assert "--seccomp 9" in Path(prefix[0]).read_text()
    assert "--tmpfs /tmp" in joined
    assert f"--size {8 * 1024**2} --tmpfs {work_dir}" in joined  # the size-limited work dir
    assert "--cpu=7" in prefix and "--nproc=256" in prefix and "--fsize=67108864" in prefix
    assert prefix[-3:] == ["timeout", "--kill-after=5", "60"]
    if os.geteuid() == 0:
        uid = next(a for a in prefix if a.startswith("--reuid="))
        assert int(uid.removeprefix("--reuid=")) in SANDBOX_UIDS and "--no-new-privs" in prefix


def test_never_binds_the_host_root(work_dir: Path) -> None:
    with pytest.raises(ValueError, match="never binds the host"):
        BubblewrapSandbox().command_prefix(_spec(work_dir, read_only=[Path("/")]))


async def test_runs_as_its_own_uid_in_a_clean_environment(
    sandbox: BubblewrapSandbox, work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOLFOUNDRY_SECRET_FOR_TEST", "leak")
    run = await sandbox.run(["sh", "-c", "id -u; id -g; env"], _spec(work_dir), timeout=10)
    assert run.ok, run.stderr
    uid, gid, *env = run.stdout.splitlines()
    assert uid == gid and int(uid) in _expected_uids()
    assert not any("TOOLFOUNDRY_SECRET_FOR_TEST" in line for line in env)
    assert "HOME=/home/sandbox" in env


@pytest.mark.skipif(os.geteuid() != 0, reason="distinct host uids need root")
async def test_each_work_dir_has_its_own_uid_and_keeps_it(tmp_path: Path) -> None:
    sandbox = BubblewrapSandbox(state_dir=tmp_path / "state")
    first, second = tmp_path / "a" / "work", tmp_path / "b" / "work"
    first.mkdir(parents=True), second.mkdir(parents=True)
    uid_a = sandbox.uid_for(_spec(first))
    assert sandbox.uid_for(_spec(first)) == uid_a  # validation and the launch agree
    assert sandbox.uid_for(_spec(second)) != uid_a
    # Another pool on the same state directory (another build worker) sees the lease.
    assert BubblewrapSandbox(state_dir=tmp_path / "state").uid_for(_spec(first)) == uid_a
    shutil.rmtree(first)  # the build dir is gone: its lease ends
    pool = BubblewrapSandbox(state_dir=tmp_path / "state", uids=range(uid_a, uid_a + 1))
    assert pool.uid_for(_spec(tmp_path / "c")) == uid_a


async def test_the_host_is_not_visible(
    sandbox: BubblewrapSandbox, work_dir: Path, host_python: str
) -> None:
    targets = ["/etc/machine-id", "/etc/shadow", "/opt", "/var", "/run", "/sys", str(SOURCE_TREE)]
    targets = [t for t in targets if _exists(t)]
    script = "; ".join(f"ls -d {t} >/dev/null 2>&1 && echo 'seen {t}'" for t in targets)
    run = await sandbox.run(["sh", "-c", script + "; ls /"], _spec(work_dir), timeout=10)
    assert "seen" not in run.stdout, run.stdout
    assert set(run.stdout.split()) <= {"bin", "dev", "etc", "home", "lib", "lib64", "proc"} | {
        "root",
        "sbin",
        "tmp",
        "usr",
    }


async def test_no_user_namespaces_inside(sandbox: BubblewrapSandbox, work_dir: Path) -> None:
    run = await sandbox.run(["unshare", "-Ur", "true"], _spec(work_dir), timeout=10)
    assert run.returncode != 0
    assert "Operation not permitted" in run.stderr


SYSCALLS = """
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
for name, number, args in (("ptrace", 101, (0, 0, 0, 0)), ("keyctl", 250, (0, -3, 0, 0)),
                           ("bpf", 321, (0, 0, 0)), ("unshare", 272, (0x10000000,))):
    result = libc.syscall(number, *args)
    print(name, errno.errorcode.get(ctypes.get_errno(), "ok") if result < 0 else "ok")
"""


async def test_seccomp_refuses_kernel_surface(
    sandbox: BubblewrapSandbox, work_dir: Path, host_python: str
) -> None:
    assert sandbox.seccomp_path is not None, sandbox.seccomp_reason
    run = await sandbox.run([host_python, "-c", SYSCALLS], _spec(work_dir), timeout=20)
    assert run.ok, run.stderr
    # ptrace(TRACEME) and keyctl(GET_KEYRING_ID) succeed for any process without the filter.
    assert run.stdout.split("\n")[:4] == [
        "ptrace EPERM",
        "keyctl EPERM",
        "bpf EPERM",
        "unshare EPERM",
    ], run.stdout
    # Threads and subprocesses (clone without namespace flags) still work.
    threads = "import subprocess, threading; t = threading.Thread(target=print); t.start(); "
    threads += "t.join(); print(subprocess.run(['true']).returncode)"
    run = await sandbox.run([host_python, "-c", threads], _spec(work_dir), timeout=20)
    assert run.ok and run.stdout.split() == ["0"], run.stderr


async def test_work_dir_is_size_limited(sandbox: BubblewrapSandbox, work_dir: Path) -> None:
    limits = ResourceLimits(disk_bytes=8 * 1024**2, file_size_bytes=64 * 1024**2)
    script = "for i in 1 2 3 4; do head -c 3000000 /dev/zero > part$i || exit 7; done"
    run = await sandbox.run(["sh", "-c", script], _spec(work_dir, limits=limits), timeout=20)
    assert run.returncode == 7  # many small files: the filesystem, not RLIMIT_FSIZE, stops it
    assert "No space left on device" in run.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="distinct host uids need root")
async def test_a_fork_bomb_does_not_stop_another_sandbox(
    sandbox: BubblewrapSandbox, tmp_path: Path, processes_with: Callable[[str], list[int]]
) -> None:
    bombed, other = tmp_path / "bombed" / "work", tmp_path / "other" / "work"
    limits = ResourceLimits(processes=40)
    bomb = "bomb() { bomb | bomb & }; bomb; sleep 6"
    bombed_spec = _spec(bombed, writable=[bombed], limits=limits)
    task = asyncio.create_task(sandbox.run(["bash", "-c", bomb], bombed_spec, timeout=20))
    starts = ["sh", "-c", "id -u; sh -c 'echo started'"]
    try:
        await asyncio.sleep(2)  # the bomb has used its whole quota by now
        assert processes_with("bomb() { bomb")
        other_spec = _spec(other, writable=[other], limits=limits)
        run = await sandbox.run(starts, other_spec, timeout=10)
        assert run.ok, run.stderr
        uid, started = run.stdout.split()
        assert started == "started" and int(uid) != sandbox.uid_for(bombed_spec)
        # What it protects against: the same server under the bomb's uid cannot even fork.
        shared = other_spec.model_copy(update={"uid": sandbox.uid_for(bombed_spec)})
        run = await sandbox.run(starts, shared, timeout=10)
        assert "started" not in run.stdout and "fork" in run.stderr.lower(), run.stderr
    finally:
        await task
    await asyncio.sleep(0.2)
    assert processes_with("bomb() { bomb") == []


async def test_wall_time_limit_stops_a_long_runner(
    sandbox: BubblewrapSandbox, work_dir: Path
) -> None:
    spec = _spec(work_dir, limits=ResourceLimits(wall_seconds=1))
    run = await sandbox.run(["sleep", "30"], spec, timeout=20)
    assert run.returncode == 124 and run.duration_s < 10


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
    (code_dir / "server.py").write_text("print('hi')\n")
    home = Path.home()
    script = (
        f"for target in /etc/tf-sandbox-test {home}/tf-sandbox-test {code_dir}/x; do "
        '  if echo x > "$target" 2>/dev/null; then echo "$target written"; '
        '  else echo "$target refused"; fi; '
        f"done; echo data > ok.txt && cat ok.txt && echo workdir-written; cat {code_dir}/server.py"
    )
    spec = _spec(work_dir, read_only=[code_dir])
    run = await sandbox.run(["sh", "-c", script], spec, timeout=10)
    assert "written" not in run.stdout.replace("workdir-written", ""), run.stdout
    assert "data\nworkdir-written\nprint('hi')" in run.stdout
    # The work dir is scratch: a fresh tmpfs each run, nothing reaches the host.
    assert _listing(work_dir) == []
    assert not _exists("/etc/tf-sandbox-test")
    assert not _exists(home / "tf-sandbox-test")


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
    script = "head -c 5000000 /dev/zero > big.bin; echo $?; stat -c %s big.bin"
    run = await sandbox.run(["sh", "-c", script], spec, timeout=10)
    status, size = run.stdout.split()
    assert status != "0" and int(size) <= 1024 * 1024  # EFBIG (SIGXFSZ) at the limit


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
    with caplog.at_level(logging.WARNING, logger="toolfoundry.builder.stages.sandbox"):
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
    work_dir = Path(tempfile.mkdtemp(prefix="tf-userns-", dir="/tmp"))
    state_dir = work_dir.with_name(work_dir.name + "-state")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    sandbox = BubblewrapSandbox(state_dir=state_dir)
    monkeypatch.undo()
    try:
        for path in (work_dir, state_dir, *state_dir.iterdir()):
            os.chown(path, 1000, 1000)  # the service's own files, as that user would have them
        spec = SandboxSpec(cwd=work_dir, writable=[work_dir])
        prefix = sandbox.command_prefix(spec)
        assert "--unshare-user" in prefix and "setpriv" not in prefix
        assert "--disable-userns" in prefix
        process = await asyncio.create_subprocess_exec(
            "setpriv",
            "--reuid=1000",
            "--regid=1000",
            "--clear-groups",
            "--",
            *prefix,
            "sh",
            "-c",
            "id -u; touch ok && echo written; echo x > /etc/x || echo refused; "
            "unshare -Ur true || echo no-userns",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
        if process.returncode != 0 and b"namespace" in stderr:
            pytest.skip(f"unprivileged user namespaces unavailable: {stderr.decode().strip()}")
        assert stdout.decode().split() == ["65534", "written", "refused", "no-userns"], stderr
    finally:
        shutil.rmtree(work_dir)
        shutil.rmtree(state_dir)
