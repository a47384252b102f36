"""Where generated code runs: bubblewrap with no network, only what it needs bound, and rlimits.

A `Sandbox` turns a `SandboxSpec` (paths to expose, working directory, environment, network,
limits) into a command prefix. Everything it enforces is on that command line, so the launch
command registered in the catalog for a built server carries the same confinement as the
validation run. Children are started in their own session and killed as a process group on
timeout or cancellation.

The sandbox's root is an empty tmpfs: bound into it read-only are the system's programs and
libraries (/usr/bin, /usr/lib…), a handful of /etc files, and the spec's paths (the venv, the
Python install it uses, the server code) — never the host's `/`. Writable directories are fresh
size-limited tmpfs mounts (scratch, gone when the process ends). A seccomp filter refuses new
namespaces, mounts, ptrace and other kernel surface; each work directory runs as its own uid.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from toolfoundry.builder.stages.sandbox_uids import DEFAULT_UIDS, UidPool
from toolfoundry.builder.stages.seccomp_filter import SeccompUnavailableError, write_filter

logger = logging.getLogger(__name__)

SANDBOX_UID = 65534  # nobody: the uid inside the user namespace when not run as root
SANDBOX_HOME = "/home/sandbox"
_SCRATCH_BYTES = 64 * 1024 * 1024  # /tmp and the home directory, each
_OUTPUT_LIMIT = 64 * 1024
# What any program needs from the host, bound read-only when present.
_SYSTEM_DIRS = (
    "/usr/bin",
    "/usr/lib",
    "/usr/lib64",
    "/usr/libexec",
    "/usr/share/zoneinfo",
    "/usr/share/ca-certificates",
)
_MERGED_USR = ("/bin", "/lib", "/lib64", "/sbin")
_ETC = (
    "passwd",
    "group",
    "hosts",
    "host.conf",
    "nsswitch.conf",
    "gai.conf",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "ssl/certs",
    "ssl/openssl.cnf",
    "ca-certificates",
    "mime.types",
)
_BASE_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": SANDBOX_HOME,
    "USER": "sandbox",
    "LOGNAME": "sandbox",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
}


class SandboxUnavailableError(RuntimeError):
    """bubblewrap cannot run here; the message says why."""


class ResourceLimits(BaseModel):
    """rlimits applied with `prlimit` (each value both the soft and the hard limit), the size of
    the writable filesystem, and an optional wall-clock lifetime."""

    cpu_seconds: int = Field(default=120, gt=0)
    """RLIMIT_CPU: CPU seconds a process may use over its whole life, then it is killed."""
    memory_bytes: int = Field(default=2 * 1024**3, gt=0)
    """Address space (RLIMIT_AS): Python reserves far more than it uses, so keep it generous."""
    processes: int = Field(default=256, gt=0)
    """RLIMIT_NPROC counts every task (threads too) of the sandbox uid on the host."""
    file_size_bytes: int = Field(default=64 * 1024**2, gt=0)
    open_files: int = Field(default=256, gt=0)
    disk_bytes: int = Field(default=256 * 1024**2, gt=0)
    """Size of each writable directory (a tmpfs): writing more fails with ENOSPC."""
    wall_seconds: int | None = Field(default=None, gt=0)
    """Lifetime: `timeout` stops the command after this long (TERM, then KILL 5 s later)."""

    def command(self) -> list[str]:
        """prlimit, then `timeout` when a lifetime is set; the command follows."""
        return self.prlimit_args() + self.wall_args()

    def wall_args(self) -> list[str]:
        if self.wall_seconds is None:
            return []
        return ["timeout", "--kill-after=5", str(self.wall_seconds)]

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
    """Fresh, size-limited scratch directories in the sandbox (created empty on the host too)."""
    network: bool = False
    uid: int | None = None
    """The host uid it runs as (as root); None: the uid leased to the first writable directory."""
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
    """bubblewrap + seccomp + setpriv + prlimit.

    As root, bwrap needs no user namespace and `setpriv` drops to the work directory's own uid
    (from `uids`) with no capabilities; as an ordinary user, bwrap maps the caller to 65534 in a
    new user namespace and `--disable-userns` forbids nested ones. `state_dir` holds the seccomp
    program and the uid leases (default: a private directory for this process).
    """

    name = "bubblewrap"

    def __init__(
        self,
        *,
        bwrap: str = "bwrap",
        state_dir: Path | None = None,
        uids: range = DEFAULT_UIDS,
        seccomp: bool = True,
    ) -> None:
        self.bwrap = bwrap
        self._as_root = os.geteuid() == 0
        self.state_dir = state_dir or _private_state_dir()
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.uid_pool = UidPool(self.state_dir / "uids", uids) if self._as_root else None
        self.seccomp_path: Path | None = None
        self.seccomp_reason = "disabled"
        self.launcher = bwrap
        if seccomp:
            try:
                self.seccomp_path = write_filter(self.state_dir)
                self.launcher = str(_write_launcher(self.state_dir, bwrap, self.seccomp_path))
                self.seccomp_reason = "loaded"
            except SeccompUnavailableError as exc:
                self.seccomp_reason = str(exc)
                logger.warning("sandbox runs WITHOUT a seccomp filter: %s", exc)

    def prepare(self, spec: SandboxSpec) -> None:
        # The directories themselves are tmpfs mounts inside; on the host they only name the
        # sandbox (its uid lease), so nothing in them is shared with the host.
        for path in spec.writable:
            path.mkdir(parents=True, exist_ok=True)

    def uid_for(self, spec: SandboxSpec) -> int:
        if not self._as_root or self.uid_pool is None:
            return SANDBOX_UID
        if spec.uid is not None:
            return spec.uid
        return self.uid_pool.uid_for(spec.writable[0] if spec.writable else None)

    def _host_cwd(self, spec: SandboxSpec) -> str:
        return "/"  # the sandbox changes directory itself (--chdir)

    def command_prefix(self, spec: SandboxSpec) -> list[str]:
        # With seccomp, the launcher script runs bwrap with the filter open on fd 9.
        args = [
            self.launcher,
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
            args += ["--unshare-user", "--disable-userns"]
            args += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
        mounts: list[tuple[str, ...]] = [*_system_binds(spec.network)]
        mounts += [("--dev", "/dev"), ("--proc", "/proc")]
        scratch = str(min(_SCRATCH_BYTES, spec.limits.disk_bytes))
        mounts += [("--perms", "1777", "--size", scratch, "--tmpfs", "/tmp")]
        mounts += [("--perms", "0777", "--size", scratch, "--tmpfs", SANDBOX_HOME)]
        for path in spec.read_only:
            resolved = Path(path).resolve()
            if resolved == Path("/"):
                raise ValueError("the sandbox never binds the host's / ; name what it needs")
            if not _covered(resolved):
                mounts.append(("--ro-bind", str(resolved), str(resolved)))
        disk = str(spec.limits.disk_bytes)
        for path in spec.writable:
            resolved = str(Path(path).resolve())
            mounts.append(("--perms", "0777", "--size", disk, "--tmpfs", resolved))
        args += _with_parents(mounts)
        # The root tmpfs bwrap built holds only mount points: nothing may be written there.
        args += ["--remount-ro", "/"]
        args += ["--clearenv"]
        for key, value in spec.full_env().items():
            args += ["--setenv", key, value]
        args += ["--chdir", str(spec.cwd.resolve()), "--"]
        if self._as_root:
            uid = self.uid_for(spec)
            args += [
                "setpriv",
                f"--reuid={uid}",
                f"--regid={uid}",
                "--clear-groups",
                "--no-new-privs",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--",
            ]
        return args + spec.limits.command()


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
        limits = spec.limits
        return [*limits.prlimit_args(), "env", "-i", "-C", str(spec.cwd), *env, *limits.wall_args()]


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
    sandbox = BubblewrapSandbox()
    try:
        probe = subprocess.run(
            [*sandbox.command_prefix(spec), "true"],
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
    return SandboxStatus(
        available=True, reason=f"bubblewrap works; seccomp filter {sandbox.seccomp_reason}"
    )


def _system_binds(network: bool) -> list[tuple[str, ...]]:
    """Programs, libraries and a minimal /etc, read-only; merged-/usr links as symlinks."""
    mounts: list[tuple[str, ...]] = []
    for directory in _SYSTEM_DIRS:
        if Path(directory).is_dir():
            mounts.append(("--ro-bind", directory, directory))
    for link in _MERGED_USR:
        path = Path(link)
        if path.is_symlink():
            mounts.append(("--symlink", os.readlink(path), link))
        elif path.is_dir():
            mounts.append(("--ro-bind", link, link))
    etc = [*_ETC, "resolv.conf"] if network else _ETC
    for name in etc:
        path = Path("/etc") / name
        if path.exists():
            # A symlinked file (resolv.conf → /run/…) is bound with its content.
            mounts.append(("--ro-bind", str(path.resolve()), str(path)))
    return mounts


def sandbox_fix(status: SandboxStatus) -> str:
    """The exact step that makes the sandbox usable, for messages at start and on failure."""
    if status.reason.startswith("not installed"):
        # prlimit and setpriv come with util-linux, which Debian always has; name it only when
        # it is what is missing.
        missing = {name.strip() for name in status.reason.split(":", 1)[1].split(",")}
        packages = "bubblewrap" + (" util-linux" if missing & {"prlimit", "setpriv"} else "")
        return (
            f"install it: `sudo apt-get install {packages}` on Debian/Ubuntu (as root: "
            f"`apt-get install {packages}`), `sudo dnf install {packages}` on Fedora"
        )
    return (
        "allow unprivileged user namespaces: `sudo sysctl -w kernel.unprivileged_userns_clone=1` "
        "(Debian) or `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu "
        "24.04); in a container, run it with `--security-opt seccomp=unconfined "
        "--security-opt apparmor=unconfined`"
    )


def _with_parents(mounts: list[tuple[str, ...]]) -> list[str]:
    """Each mount (destination last) preceded by its missing parent directories, made 0755:
    bwrap would create them 0700, which the sandbox's uid cannot traverse."""
    args: list[str] = []
    made: set[Path] = {Path("/")}
    for mount in mounts:
        destination = Path(mount[-1])
        for parent in reversed(destination.parents):
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
        made.add(destination)
        args += mount
    return args


def _covered(path: Path) -> bool:
    """Already visible through the system binds (e.g. a venv made from /usr/bin/python3)."""
    if path == Path("/usr"):
        return True
    return any(path == Path(d) or Path(d) in path.parents for d in _SYSTEM_DIRS)


def _write_launcher(state_dir: Path, bwrap: str, seccomp: Path) -> Path:
    """`<state_dir>/bwrap-seccomp`: bwrap with the filter on fd 9, as one executable a stdio
    server's launch command (and an allow-list of commands) can name — no general shell."""
    bwrap_path = shutil.which(bwrap) or bwrap
    script = (
        "#!/bin/sh\n"
        "# Written by toolfoundry: bubblewrap with the sandbox's seccomp filter on fd 9.\n"
        f'exec {shlex.quote(bwrap_path)} --seccomp 9 "$@" 9<{shlex.quote(str(seccomp))}\n'
    )
    path = state_dir / "bwrap-seccomp"
    if not path.exists() or path.read_text() != script:
        partial = state_dir / f".bwrap-seccomp.{os.getpid()}.tmp"
        partial.write_text(script)
        partial.chmod(0o700)
        partial.replace(path)
    return path


@functools.cache
def _private_state_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="tf-sandbox-state-"))


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
