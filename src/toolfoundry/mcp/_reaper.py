"""Runs a stdio MCP server so that it, and everything it starts, dies with the service.

Usage (by the connection manager, Linux only): ``python -I _reaper.py PARENT_PID -- CMD ARGS…``.
Stdlib only, run by path: importing toolfoundry would cost a second per server start.

- The reaper asks the kernel for SIGTERM when its parent (the service) dies (`PR_SET_PDEATHSIG`),
  even by SIGKILL, and becomes a child subreaper (`PR_SET_CHILD_SUBREAPER`), so descendants that
  start their own session and are orphaned reparent to it instead of to init.
- The server runs in its own process group, with `PR_SET_PDEATHSIG` = SIGKILL as well.
- When the server exits, or the reaper is told to stop (SIGTERM/SIGINT/SIGHUP, or the service
  died), every remaining descendant is SIGKILLed, then the reaper exits with the server's code.
The server inherits stdin/stdout/stderr: the reaper never touches the MCP stream.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> None:
    if _libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


class _Stop(Exception):
    """Raised by the signal handler to leave the wait."""


def _die_with_parent() -> None:  # runs in the server's process between fork and exec
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def descendants(root: int) -> list[int]:
    """Pids below `root` in the process tree (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the ppid follows the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_all() -> None:
    me = os.getpid()
    for _ in range(5):  # a dying process may still fork: repeat until nothing is left
        pids = descendants(me)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        reap()
        time.sleep(0.05)


def reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(argv: list[str]) -> int:
    parent, separator, *command = argv
    if separator != "--" or not command:
        print("usage: _reaper.py PARENT_PID -- COMMAND [ARGS…]", file=sys.stderr)
        return 2
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(parent):  # the service died before the line above took effect
        return 1
    _prctl(PR_SET_CHILD_SUBREAPER, 1)

    def stop(_signum: int, _frame: object) -> None:
        raise _Stop

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    try:
        server = subprocess.Popen(command, start_new_session=True, preexec_fn=_die_with_parent)
    except OSError as exc:
        print(f"cannot start {command[0]!r}: {exc}", file=sys.stderr)
        return 127
    # Only the server holds the MCP pipes: its death is seen by the client at once.
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    code = None
    try:
        while code is None:
            # Reap whatever exits (orphaned grandchildren reparent here) until the server does.
            pid, status = os.waitpid(-1, 0)
            if pid == server.pid:
                code = os.waitstatus_to_exitcode(status)
    except (_Stop, ChildProcessError):
        pass
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)  # finish the clean-up
    kill_all()
    return code if code is not None and code >= 0 else 143


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
