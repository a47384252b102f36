"""A distinct host uid per sandbox, from a small range, so each has its own process quota.

RLIMIT_NPROC counts every task of a *real uid*: with one shared uid, a fork bomb in one built
server stops every other sandbox from starting. Leases are files in the service's state directory
(`<uid>` → the work directory it belongs to), taken under a lock, so build workers sharing a data
directory never hand out the same uid twice. A lease ends when its work directory is gone — a build
dir removed, an asset deleted — and a uid that some process on the host still runs as is never
handed out.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

DEFAULT_UIDS = range(61000, 62000)


class UidPoolExhaustedError(RuntimeError):
    """Every uid of the range is leased or in use."""


class UidPool:
    def __init__(self, directory: Path, uids: range = DEFAULT_UIDS) -> None:
        if not uids or uids.start < 1000:
            raise ValueError(f"sandbox uids must be a non-empty range above 999, not {uids}")
        self.directory = directory
        self.uids = uids
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def uid_for(self, owner: Path | None) -> int:
        """The uid leased to `owner` (a work directory), leasing a free one on first use.
        Without an owner, a uid that is free now (for one-off probes)."""
        key = str(owner.resolve()) if owner is not None else None
        with self._locked():
            leases = self._leases()
            if key is not None:
                for uid, holder in leases.items():
                    if holder == key:
                        return uid
            busy = {uid for uid, holder in leases.items() if Path(holder).exists()}
            busy |= _running_uids()
            uid = self._free(busy)
            if key is not None:
                (self.directory / str(uid)).write_text(key)
            return uid

    def _free(self, busy: set[int]) -> int:
        # Start at a random offset: fewer clashes with other pools on the host using the range.
        count = len(self.uids)
        offset = secrets.randbelow(count)
        for i in range(count):
            uid = self.uids[(offset + i) % count]
            if uid not in busy:
                return uid
        raise UidPoolExhaustedError(
            f"all {count} sandbox uids ({self.uids.start}–{self.uids.stop - 1}) are in use; "
            "widen TOOLFOUNDRY_SANDBOX_UIDS or remove unused built servers"
        )

    def _leases(self) -> dict[int, str]:
        leases = {}
        for entry in self.directory.iterdir():
            if entry.name.isdigit() and int(entry.name) in self.uids:
                with contextlib.suppress(OSError):
                    leases[int(entry.name)] = entry.read_text()
        return leases

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _running_uids() -> set[int]:
    """Owners of /proc/<pid>: the effective uid of every process on the host."""
    uids = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                uids.add(entry.stat().st_uid)
    return uids
