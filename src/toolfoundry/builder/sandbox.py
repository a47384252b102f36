"""Where generated code runs: bubblewrap with no network, a read-only root and rlimits.

A `Sandbox` turns a `SandboxSpec` (paths to expose, working directory, environment, network,
limits) into a command prefix. Everything it enforces is on that command line, so the launch
command registered in the catalog for a built server carries the same confinement as the
validation run. Children are started in their own session and killed as a process group on
timeout or cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol, runtime_checkable

from pydantic import BaseModel, Field

logger = logging.getLogger(__name__)

SANDBOX_UID = 65534  # nobody
SANDBOX_HOME = "/home/sandbox"
_TMPFS_BYTES = 256 * 1024 * 1024
_OUTPUT_LIMIT = 64 * 1024
_BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": SANDBOX_HOME,
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
}


class SandboxUnavailableError(RuntimeError):
    """bubblewrap cannot run here; the message says why."""


class ResourceLimits(BaseModel):
    """rlimits applied with `prlimit`; each value is both the soft and the hard limit."""

    cpu_seconds: int = Field(default=120, gt=0)
    memory_bytes: int = Field(default=2 * 1024**3, gt=0)
    """Address space (RLIMIT_AS): Python reserves far more than it uses, so keep it generous."""
    processes: int = Field(default=256, gt=0)
    """RLIMIT_NPROC counts every task (threads too) of the sandbox uid on the host."""
    file_size_bytes: int = Field(default=64 * 1024**2, gt=0)
    open_files: int = Field(default=256, gt=0)

    def prlimit_args(self) -> list[str]:
        return [
            "prlimit",
            f"--cpu={self.cpu_seconds}",
            f"--as={self.memory_bytes}",
            f"--nproc={self.processes}",
            f"--fsize={self.file_size_bytes}",
            f"--nofile={self.open_files}",
            "--core=0",
            "--",
        ]


class SandboxSpec(BaseModel):
    """What one sandboxed command may see and use."""

    cwd: Path
    env: dict[str, str] = Field(default_factory=dict)
    """Added to a minimal environment; nothing is inherited from the host."""
    read_only: list[Path] = Field(default_factory=list)
    writable: list[Path] = Field(default_factory=list)
    network: bool = False
    limits: ResourceLimits = Field(default_factory=ResourceLimits)

    def full_env(self) -> dict[str, str]:
        return {**_BASE_ENV, **self.env}


class CompletedRun(BaseModel):
    argv: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


class SandboxedProcess:
    """A long-running sandboxed child (an MCP server); `stop()` kills its whole process group."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @property
    def pid(self) -> int:
        return self.process.pid

    async def stop(self, grace: float = 2.0) -> int:
        _signal_group(self.process, signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                await self.process.wait()
        except TimeoutError:
            pass
        # Also reaps stragglers that left the leader behind.
        _signal_group(self.process, signal.SIGKILL)
        return await self.process.wait()

    async def __aenter__(self) -> SandboxedProcess:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


@runtime_checkable
class Sandbox(Protocol):
    """Runs commands confined by a `SandboxSpec`."""

    name: str

    def command_prefix(self, spec: SandboxSpec) -> list[str]:
        """The argv to put before a command so it runs confined by `spec` (for stdio launches)."""
        ...

    def prepare(self, spec: SandboxSpec) -> None:
        """Make `spec.writable` usable by the sandbox's user; call before launching a prefix."""
        ...

    # `timeout` is part of the result (timed_out), not just a deadline for the caller.
    async def run(
        self,
        argv: Sequence[str],
        spec: SandboxSpec,
        *,
        timeout: float,  # noqa: ASYNC109
    ) -> CompletedRun:
        """Run to completion; on timeout or cancellation the process group is killed."""
        ...

    async def start(
        self, argv: Sequence[str], spec: SandboxSpec, *, stderr: IO[bytes] | int | None = None
    ) -> SandboxedProcess:
        """Start a long-running command with piped stdin/stdout."""
        ...


class _ProcessRunner:
    """Process-group handling shared by the sandbox implementations."""

    name = "base"

    def command_prefix(self, spec: SandboxSpec) -> list[str]:
        raise NotImplementedError

    def prepare(self, spec: SandboxSpec) -> None:
        raise NotImplementedError

    def _host_cwd(self, spec: SandboxSpec) -> str:
        return str(spec.cwd)

    async def run(
        self,
        argv: Sequence[str],
        spec: SandboxSpec,
        *,
        timeout: float,  # noqa: ASYNC109
    ) -> CompletedRun:
        self.prepare(spec)
        command = [*self.command_prefix(spec), *argv]
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=self._host_cwd(spec),
            env=_host_env(),
            start_new_session=True,
        )
        stdout, stderr = _TailBuffer(), _TailBuffer()
        timed_out = False
        try:
            async with asyncio.timeout(timeout):
                assert process.stdout is not None and process.stderr is not None
                await asyncio.gather(
                    stdout.drain(process.stdout), stderr.drain(process.stderr), process.wait()
                )
        except TimeoutError:
            timed_out = True
        finally:
            # Kill the whole group: on timeout, on cancellation, and to reap stragglers.
            _signal_group(process, signal.SIGKILL)
            await process.wait()
        return CompletedRun(
            argv=list(argv),
            returncode=None if timed_out else process.returncode,
            stdout=stdout.text(),
            stderr=stderr.text(),
            timed_out=timed_out,
            duration_s=time.monotonic() - started,
        )

    async def start(
        self, argv: Sequence[str], spec: SandboxSpec, *, stderr: IO[bytes] | int | None = None
    ) -> SandboxedProcess:
        self.prepare(spec)
        process = await asyncio.create_subprocess_exec(
            *self.command_prefix(spec),
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            cwd=self._host_cwd(spec),
            env=_host_env(),
            start_new_session=True,
        )
        return SandboxedProcess(process)


class BubblewrapSandbox(_ProcessRunner):
    """bubblewrap + setpriv + prlimit.

    As root, bwrap needs no user namespace and `setpriv` drops to uid/gid 65534 with no
    capabilities; as an ordinary user, bwrap maps the caller to 65534 in a new user namespace.
    """

    name = "bubblewrap"

    def __init__(self, *, bwrap: str = "bwrap", tmpfs_bytes: int = _TMPFS_BYTES) -> None:
        self.bwrap = bwrap
        self.tmpfs_bytes = tmpfs_bytes
        self._as_root = os.geteuid() == 0

    def prepare(self, spec: SandboxSpec) -> None:
        for path in spec.writable:
            path.mkdir(parents=True, exist_ok=True)
            if self._as_root:
                # The sandbox runs as 65534; a root-owned directory would be read-only to it.
                os.chown(path, SANDBOX_UID, SANDBOX_UID)
            path.chmod(0o755)

    def _host_cwd(self, spec: SandboxSpec) -> str:
        return "/"  # the sandbox changes directory itself (--chdir)

    def command_prefix(self, spec: SandboxSpec) -> list[str]:
        args = [
            self.bwrap,
            "--die-with-parent",
            "--new-session",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
        ]
        if not spec.network:
            args.append("--unshare-net")
        if not self._as_root:
            args += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
        args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        masked = _masked_dirs(spec.network)
        for directory in masked:
            perms = "1777" if directory in ("/tmp", "/var/tmp") else "0755"
            args += ["--perms", perms, "--size", str(self.tmpfs_bytes), "--tmpfs", directory]
        args += ["--perms", "0777", "--size", str(self.tmpfs_bytes), "--tmpfs", SANDBOX_HOME]
        if spec.network:
            # /etc/resolv.conf may point into /run, which is otherwise masked.
            args += _resolver_binds()
        made: set[str] = set()
        for path, flag in [(p, "--ro-bind") for p in spec.read_only] + [
            (p, "--bind") for p in spec.writable
        ]:
            resolved = str(Path(path).resolve())
            args += _parent_dirs(resolved, masked, made)
            args += [flag, resolved, resolved]
        args += ["--clearenv"]
        for key, value in spec.full_env().items():
            args += ["--setenv", key, value]
        args += ["--chdir", str(spec.cwd.resolve()), "--"]
        if self._as_root:
            args += [
                "setpriv",
                f"--reuid={SANDBOX_UID}",
                f"--regid={SANDBOX_UID}",
                "--clear-groups",
                "--no-new-privs",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--",
            ]
        return args + spec.limits.prlimit_args()


class UnsandboxedRunner(_ProcessRunner):
    """No isolation beyond rlimits and a clean environment. Only on explicit request."""

    name = "unsandboxed"

    def prepare(self, spec: SandboxSpec) -> None:
        for path in spec.writable:
            path.mkdir(parents=True, exist_ok=True)

    def command_prefix(self, spec: SandboxSpec) -> list[str]:
        logger.warning(
            "running generated code WITHOUT a sandbox (network, filesystem and host user "
            "are not isolated); cwd=%s",
            spec.cwd,
        )
        env = [f"{k}={v}" for k, v in spec.full_env().items()]
        return [*spec.limits.prlimit_args(), "env", "-i", "-C", str(spec.cwd), *env]


class SandboxStatus(BaseModel):
    available: bool
    reason: str


@functools.cache
def sandbox_available() -> SandboxStatus:
    """Whether `BubblewrapSandbox` works here: tools present and namespaces creatable."""
    needed = ["bwrap", "prlimit"] + (["setpriv"] if os.geteuid() == 0 else [])
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        return SandboxStatus(available=False, reason=f"not installed: {', '.join(missing)}")
    spec = SandboxSpec(cwd=Path("/"))
    try:
        probe = subprocess.run(
            [*BubblewrapSandbox().command_prefix(spec), "true"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return SandboxStatus(available=False, reason=f"bwrap could not be started: {exc}")
    if probe.returncode != 0:
        return SandboxStatus(
            available=False,
            reason=f"bwrap cannot create its namespaces here: {probe.stderr.strip()}",
        )
    return SandboxStatus(available=True, reason="bubblewrap works")


def _masked_dirs(network: bool) -> list[str]:
    """Host directories replaced by empty tmpfs: scratch space, homes, and /run's sockets."""
    dirs = ["/tmp", "/var/tmp", "/home", "/root", str(Path.home()), "/run"]
    seen: list[str] = []
    for directory in dirs:
        if directory not in seen and Path(directory).is_dir():
            seen.append(directory)
    return seen


def _resolver_binds() -> list[str]:
    target = Path("/etc/resolv.conf").resolve()
    if str(target).startswith("/run/") and target.exists():
        return ["--ro-bind", str(target.parent), str(target.parent)]
    return []


def _parent_dirs(path: str, masked: list[str], made: set[str]) -> list[str]:
    """bwrap creates missing mount points as 0700, which uid 65534 cannot traverse."""
    args: list[str] = []
    base = next((m for m in masked if path.startswith(m.rstrip("/") + "/")), None)
    if base is None:
        return args
    parts = Path(path).relative_to(base).parts[:-1]
    current = Path(base)
    for part in parts:
        current = current / part
        if str(current) not in made:
            made.add(str(current))
            args += ["--perms", "0755", "--dir", str(current)]
    return args


def _host_env() -> dict[str, str]:
    # bwrap clears the environment itself; keep the host side minimal too.
    return {"PATH": os.environ.get("PATH", _BASE_ENV["PATH"]), "LANG": "C.UTF-8"}


def _signal_group(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    # The child leads its own session (start_new_session), so its pid is the group id.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


class _TailBuffer:
    """Keeps the last bytes of a stream so a chatty child cannot exhaust our memory."""

    def __init__(self, limit: int = _OUTPUT_LIMIT) -> None:
        self.limit = limit
        self.data = bytearray()

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            self.data += chunk
            if len(self.data) > self.limit:
                del self.data[: len(self.data) - self.limit]

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")
