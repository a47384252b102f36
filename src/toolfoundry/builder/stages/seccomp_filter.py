"""The seccomp filter bubblewrap loads into every sandbox (`bwrap --seccomp FD`).

An allow-by-default list that refuses the system calls sandboxed code never needs and that widen
the kernel's attack surface or undo the sandbox: new namespaces (`unshare`, `setns`, `clone` with
a namespace flag — so `unshare -Ur` fails inside), mounts, ptrace and cross-process memory access,
kernel keyrings, eBPF, perf, io_uring, module loading and kexec. Compiled with libseccomp through
`pyseccomp` (ctypes); where libseccomp is missing the sandbox runs without it and says so.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import tempfile
from pathlib import Path

# EPERM: the call exists but is not allowed here.
_DENIED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "pidfd_getfd",
    "kcmp",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "name_to_handle_at",
    "open_by_handle_at",
    "syslog",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "vhangup",
    "lookup_dcookie",
    "uselib",
    "personality",
)
# clone3 passes its flags in memory seccomp cannot read: ENOSYS makes glibc fall back to clone.
_UNSUPPORTED = ("clone3",)
_CLONE_NAMESPACE_FLAGS = (
    0x00020000  # CLONE_NEWNS
    | 0x02000000  # CLONE_NEWCGROUP
    | 0x04000000  # CLONE_NEWUTS
    | 0x08000000  # CLONE_NEWIPC
    | 0x10000000  # CLONE_NEWUSER
    | 0x20000000  # CLONE_NEWPID
    | 0x40000000  # CLONE_NEWNET
    | 0x00000080  # CLONE_NEWTIME
)
DENIED_SYSCALLS: tuple[str, ...] = (*_DENIED, *_UNSUPPORTED, "clone (namespace flags)")


class SeccompUnavailableError(RuntimeError):
    """libseccomp or its binding is missing; the message says which."""


@functools.cache
def compile_filter() -> bytes:
    """The filter as the raw BPF program bwrap expects."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as exc:  # OSError: libseccomp.so.2 not found by ctypes
        raise SeccompUnavailableError(f"pyseccomp/libseccomp unavailable: {exc}") from exc
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in _DENIED:
        _add(rules, seccomp.ERRNO(errno.EPERM), name)
    for name in _UNSUPPORTED:
        _add(rules, seccomp.ERRNO(errno.ENOSYS), name)
    # clone(flags, ...): refuse any namespace flag; plain fork/thread creation stays allowed.
    for flag in _bits(_CLONE_NAMESPACE_FLAGS):
        rules.add_rule(
            seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag)
        )
    with tempfile.TemporaryFile() as out:
        rules.export_bpf(out)
        out.seek(0)
        return out.read()


def write_filter(directory: Path) -> Path:
    """Write the compiled filter to `directory` (once; the same bytes every time) and return its
    path. A registered server's launch command reads it from there at every start."""
    program = compile_filter()
    path = directory / "seccomp.bpf"
    if not path.exists() or path.read_bytes() != program:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = directory / f".seccomp.{os.getpid()}.tmp"
        partial.write_bytes(program)
        partial.chmod(0o600)  # only bwrap (root, or the service's user) opens it
        partial.replace(path)
    return path


def _add(rules: object, action: int, name: str) -> None:
    # A call this kernel/libseccomp does not know cannot be made either.
    with contextlib.suppress(ValueError, RuntimeError, OSError):
        rules.add_rule(action, name)  # type: ignore[attr-defined]


def _bits(mask: int) -> list[int]:
    return [1 << i for i in range(mask.bit_length()) if mask & (1 << i)]
