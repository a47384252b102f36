"""A fresh `uv` virtualenv per build, with the requirement's dependencies installed.

Installation runs outside the sandbox with the network on; wheels only by default, so no package's
build script runs on the host. uv reads no configuration file (`UV_NO_CONFIG`: a `uv.toml` planted
in a temp or parent directory could point it at an attacker's interpreter), never downloads or
prefers a managed Python, is given the interpreter by path, runs inside the build directory and
keeps its cache where the service says (the data directory's `uv-cache` in the service).
uv's errors are classified (`error_class`) so a healer can pick a strategy: rename the package,
relax a pin, retry later.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from packaging.utils import canonicalize_name
from pydantic import BaseModel

from toolfoundry.builder.errors import BuildError, FailureKind, Phase
from toolfoundry.builder.models import BuildRequirement, ProgressCallback
from toolfoundry.builder.stages.sandbox import ResourceLimits, SandboxSpec

FASTMCP_REQUIREMENT = "fastmcp==4.2.3"
TEST_REQUIREMENTS = ("pytest>=8",)
SERVER_ENV = {"FASTMCP_SHOW_SERVER_BANNER": "false", "FASTMCP_CHECK_FOR_UPDATES": "off"}
# Forced on every uv run, whatever the service's environment says.
UV_ENV = {
    "UV_NO_CONFIG": "1",
    "UV_PYTHON_DOWNLOADS": "never",
    "UV_PYTHON_PREFERENCE": "only-system",
    "UV_NO_PROGRESS": "1",
    "NO_COLOR": "1",
}


# Checked in order: a network failure often also ends in "unsatisfiable".
_ERROR_PATTERNS: list[tuple[FailureKind, re.Pattern[str]]] = [
    (
        FailureKind.NETWORK,
        re.compile(
            r"failed to fetch|error sending request|tcp connect error|dns error|"
            r"connection refused|timed out|network (?:was|is) disabled|"
            r"could not connect|temporary failure in name resolution",
            re.I,
        ),
    ),
    (FailureKind.DEPENDENCY_NOT_FOUND, re.compile(r"was not found in the package registry", re.I)),
    (
        FailureKind.NO_WHEEL,
        re.compile(r"no wheels? (?:are|is) available|only source distributions? (?:are|is)", re.I),
    ),
    (FailureKind.INVALID_REQUIREMENT, re.compile(r"failed to parse", re.I)),
    (FailureKind.PYTHON_UNAVAILABLE, re.compile(r"no interpreter found|python .* not found", re.I)),
    (
        FailureKind.VERSION_CONFLICT,
        re.compile(r"unsatisfiable|no version of|conflict|incompatible", re.I),
    ),
]


class EnvironmentBuildError(BuildError):
    """The venv could not be created or the dependencies could not be installed; `kind` is one
    of `UV_KINDS`, `stderr` uv's output."""

    def __init__(self, message: str, *, error_class: FailureKind | str, stderr: str = "") -> None:
        super().__init__(message, phase=Phase.ENVIRONMENT, kind=error_class)
        self.stderr = stderr


class EnvironmentResult(BaseModel):
    """A ready build venv and what the sandbox needs to run its interpreter."""

    venv: Path
    python: Path
    python_home: Path
    """The base interpreter's prefix the venv links to; the sandbox must expose it."""
    site_packages: Path
    packages: dict[str, str]
    """Installed distributions: canonical name → version."""
    duration_s: float

    def sandbox_spec(
        self,
        server_dir: Path,
        work_dir: Path,
        *,
        network: bool = False,
        limits: ResourceLimits | None = None,
    ) -> SandboxSpec:
        """How to run the server in `server_dir` confined: code and venv read-only, `work_dir`
        writable and the working directory."""
        return SandboxSpec(
            cwd=work_dir,
            env=dict(SERVER_ENV),
            read_only=[self.python_home, self.venv, server_dir],
            writable=[work_dir],
            network=network,
            limits=limits or ResourceLimits(),
        )

    def server_argv(self, server_dir: Path) -> list[str]:
        return [str(self.python), str(server_dir / "server.py")]


class BuildEnvironment:
    """Creates build venvs with `uv`; one instance serves many builds and shares uv's cache."""

    def __init__(
        self,
        *,
        uv: str | None = None,
        python: str | None = None,
        cache_dir: Path | None = None,
        only_binary: bool = True,
        timeout: float = 300.0,
    ) -> None:
        """`python`: an interpreter path or a version such as "3.11" (default: the version the
        service runs on); it is resolved to a real interpreter path before uv sees it."""
        self._uv_path = uv
        self.python = python or f"{sys.version_info.major}.{sys.version_info.minor}"
        self.cache_dir = cache_dir
        self.only_binary = only_binary
        self.timeout = timeout

    @property
    def uv(self) -> str:
        """The uv executable, looked up on first use: a service without it still starts, and
        only a build says what is missing."""
        if self._uv_path is None:
            self._uv_path = _find_uv()
        return self._uv_path

    async def create(
        self,
        venv_dir: Path,
        requirement: BuildRequirement,
        *,
        with_tests: bool = True,
        on_progress: ProgressCallback | None = None,
    ) -> EnvironmentResult:
        """Create a fresh venv in `venv_dir` and install fastmcp, the dependencies and (for the
        generated tests) pytest."""
        started = time.monotonic()
        _clear(venv_dir)
        interpreter = resolve_interpreter(self.python)
        _emit(on_progress, f"creating venv ({interpreter}) in {venv_dir}")
        await self._uv(
            ["venv", "--python", str(interpreter), str(venv_dir)], on_progress, venv_dir.parent
        )
        # The sandbox user must be able to read the venv.
        os.chmod(venv_dir, 0o755)
        packages = [FASTMCP_REQUIREMENT, *requirement.dependencies]
        if with_tests:
            packages += TEST_REQUIREMENTS
        python = venv_dir / "bin" / "python"
        await self.install(python, packages, on_progress=on_progress)
        site_packages = _site_packages(venv_dir)
        result = EnvironmentResult(
            venv=venv_dir,
            python=python,
            python_home=_python_home(venv_dir),
            site_packages=site_packages,
            packages=_installed(site_packages),
            duration_s=time.monotonic() - started,
        )
        _emit(on_progress, f"environment ready: {len(result.packages)} packages")
        return result

    async def install(
        self,
        python: Path,
        packages: Sequence[str],
        *,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        """Install `packages` into the venv of `python` (also used to add packages later)."""
        _emit(on_progress, f"installing {', '.join(packages)}")
        args = ["pip", "install", "--python", str(python)]
        if self.only_binary:
            args += ["--only-binary", ":all:"]
        # The venv's parent is the build directory: uv runs there, never in a shared temp dir.
        await self._uv([*args, *packages], on_progress, python.parent.parent.parent)

    async def _uv(self, args: list[str], on_progress: ProgressCallback | None, cwd: Path) -> None:
        env = {**os.environ, **UV_ENV}
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            env["UV_CACHE_DIR"] = str(self.cache_dir)
        process = await asyncio.create_subprocess_exec(
            # The venv must be readable by the sandbox's uid whatever the service's umask; set
            # by the shell, since uvloop's subprocess_exec (uvicorn's loop) has no umask option.
            "/bin/sh",
            "-c",
            'umask 022 && exec "$0" "$@"',
            self.uv,
            "--no-config",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        lines: list[str] = []
        try:
            async with asyncio.timeout(self.timeout):
                assert process.stdout is not None
                async for raw in process.stdout:
                    line = raw.decode(errors="replace").rstrip()
                    lines.append(line)
                    _emit(on_progress, line)
                await process.wait()
        except TimeoutError as exc:
            raise EnvironmentBuildError(
                f"uv {args[0]} timed out after {self.timeout:.0f}s",
                error_class=FailureKind.TIMEOUT,
                stderr="\n".join(lines[-40:]),
            ) from exc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        if process.returncode != 0:
            output = "\n".join(lines[-40:])
            error_class = classify_uv_error(output)
            raise EnvironmentBuildError(
                f"uv {' '.join(args[:2])} failed ({error_class}): {_first_error(output)}",
                error_class=error_class,
                stderr=output,
            )


def classify_uv_error(output: str) -> FailureKind:
    """Map uv's error output to the class of failure a healer acts on."""
    for error_class, pattern in _ERROR_PATTERNS:
        if pattern.search(output):
            return error_class
    return FailureKind.UNKNOWN


def _first_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    causes = [line.removeprefix("cause:").strip() for line in lines if line.startswith("cause:")]
    if causes:
        return causes[0] if len(causes) == 1 else causes[-1]
    errors = [line for line in lines if line.startswith("error:")]
    return errors[0] if errors else (lines[-1] if lines else "no output")


def resolve_interpreter(python: str) -> Path:
    """A real interpreter path for a version or path: the service's own base interpreter when
    the version matches, else `pythonX.Y` in the system directories — never a PATH shim (pyenv's
    read `.python-version` files from the working directory) nor a uv-managed download."""
    if "/" in python:
        path = Path(python)
        if not path.is_file() or not os.access(path, os.X_OK):
            raise EnvironmentBuildError(
                f"Python interpreter {python} does not exist or is not executable",
                error_class=FailureKind.PYTHON_UNAVAILABLE,
            )
        return path.resolve()
    if python == f"{sys.version_info.major}.{sys.version_info.minor}":
        own = Path(sys.base_prefix) / "bin" / f"python{python}"
        if own.is_file():
            return own.resolve()
    for directory in ("/usr/bin", "/usr/local/bin"):
        candidate = Path(directory) / f"python{python}"
        if candidate.is_file():
            return candidate.resolve()
    raise EnvironmentBuildError(
        f"no Python {python} interpreter found (looked at the service's own and in /usr/bin, "
        "/usr/local/bin); give the interpreter's path",
        error_class=FailureKind.PYTHON_UNAVAILABLE,
    )


def _find_uv() -> str:
    sibling = Path(sys.executable).with_name("uv")
    found = shutil.which("uv") or (str(sibling) if sibling.exists() else None)
    if found is None:
        raise EnvironmentBuildError(
            "uv is not installed (pip install uv)", error_class=FailureKind.PYTHON_UNAVAILABLE
        )
    return found


def _site_packages(venv_dir: Path) -> Path:
    found = sorted(venv_dir.glob("lib/python3*/site-packages"))
    if not found:
        raise EnvironmentBuildError(
            f"no site-packages in {venv_dir}", error_class=FailureKind.PYTHON_UNAVAILABLE
        )
    return found[0]


def _python_home(venv_dir: Path) -> Path:
    """The base prefix from pyvenv.cfg's `home` (…/bin); the venv's python symlinks into it."""
    for line in (venv_dir / "pyvenv.cfg").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home":
            return Path(value.strip()).resolve().parent
    raise EnvironmentBuildError(
        f"{venv_dir}/pyvenv.cfg names no base interpreter",
        error_class=FailureKind.PYTHON_UNAVAILABLE,
    )


def _installed(site_packages: Path) -> dict[str, str]:
    return {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions(path=[str(site_packages)])
    }


def _clear(venv_dir: Path) -> None:
    if venv_dir.exists():
        shutil.rmtree(venv_dir)
    venv_dir.parent.mkdir(parents=True, exist_ok=True)


def _emit(on_progress: ProgressCallback | None, line: str) -> None:
    if on_progress is not None and line:
        on_progress(line)
