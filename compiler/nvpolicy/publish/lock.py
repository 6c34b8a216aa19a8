"""One publish per deploy repo at a time: an exclusive ``flock`` on a file in the git dir.

The kernel drops a ``flock`` when its holder dies, however it dies, so a killed run can never
leave a lock that blocks the next one: a lock *file* that nobody holds is stale by definition.
The file also records who holds it (pid, host, start time) so a refusal can say who is running;
on acquiring a file left by a dead run we report that its holder was gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nvpolicy.errors import NvPolicyError


class PublishLockedError(NvPolicyError):
    """Another publish holds the deploy repo's lock."""


@dataclass(frozen=True)
class Lock:
    path: Path
    stale_holder: str | None  # "pid 123 on host" of a killed run whose lock file we took over


def _describe(text: str) -> str:
    try:
        info = json.loads(text)
        return f"pid {info['pid']} on {info['host']}, started {info['started']}"
    except (ValueError, KeyError, TypeError):
        return "an unknown process"


@contextlib.contextmanager
def publish_lock(path: Path) -> Iterator[Lock]:
    """Hold the lock at ``path`` for the duration of the block; refuse at once if another run holds it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)  # never through a planted link
    except OSError as exc:
        raise NvPolicyError(f"cannot create the publish lock {path}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
            raise PublishLockedError(
                f"another nvpolicy publish into this repo is running ({holder})",
                hint=f"wait for it to finish; its lock is {path}",
            ) from None
        previous = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield Lock(path, _describe(previous) if previous else None)
        finally:
            # Empty the file before unlocking: a non-empty unlocked file means a run died holding it.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
