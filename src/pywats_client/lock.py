"""One service per instance: an exclusive OS lock on ``service.lock``.

The lock is the operating system's (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows), so it goes away
with the process that held it: a lock file left by a process that crashed or was killed is simply taken over by
the next service, and two services can never both believe they hold it. The file also records the holder's pid
and start time, for error messages and ``diagnose``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from types import TracebackType
from typing import Any

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt
else:
    import fcntl


class InstanceLockedError(RuntimeError):
    """Another running service holds this instance's lock."""


class InstanceLock:
    """Hold the lock of one instance while the service runs.

    >>> with InstanceLock(paths.lock_file):   # doctest: +SKIP
    ...     run_the_service()
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`InstanceLockedError` naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd)
        except OSError:
            os.close(fd)
            holder = read_holder(self.path)
            who = f"pid {holder.get('pid')}" if holder else "another process"
            raise InstanceLockedError(f"the instance is already served by {who} (lock: {self.path})") from None
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        # Windows locks a byte range, and the record is written after the first byte, which stays locked.
        os.write(fd, b" " + json.dumps({"pid": os.getpid(), "started": time.time()}).encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            _unlock(fd)
        finally:
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def read_holder(path: Path) -> dict[str, Any]:
    """What the lock file says about its holder (``pid``, ``started``), or {} (absent, empty or unreadable)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8").strip() or "{}")
    except (OSError, ValueError):
        return {}


def is_locked(path: Path) -> bool:
    """Whether a running process holds the lock at ``path`` (a stale file left by a dead process is not)."""
    if not Path(path).exists():
        return False
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        _lock(fd)
    except OSError:
        return True
    else:
        _unlock(fd)
        return False
    finally:
        os.close(fd)


def _lock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)


__all__ = ["InstanceLock", "InstanceLockedError", "is_locked", "read_holder"]
