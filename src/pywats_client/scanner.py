"""Which entries of a watch folder are ready to be taken.

File events only say "look again"; a scan decides. An entry is ready when:

1. its name matches the converter's patterns and is not a temporary name (``*.tmp``, ``*.part``, ``~*``,
   hidden ``.*`` files, ``*.error.txt`` sidecars...);
2. it has been seen twice with the same size and modification time, at least ``stability_window`` apart (a
   folder: the same file count, total size and newest modification time of everything in it);
3. when a ready marker is configured, ``<name><marker>`` exists beside it;
4. it can be opened for reading, and on Windows opened exclusively (a writer still has it open otherwise).

Done and error folders inside a recursively watched folder are skipped. Scanning is plain blocking file-system
work; the service runs it on a worker thread.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

TEMPORARY_PATTERNS = ("*.tmp", "*.temp", "*.part", "*.partial", "*.crdownload", "*.swp", "~*", ".*", "*.error.txt")


@dataclass(frozen=True)
class Entry:
    """A file (or folder) found ready, with the size and modification time it had when it was judged stable."""

    path: Path
    size: int
    mtime_ns: int
    is_dir: bool = False


@dataclass(frozen=True)
class ScanResult:
    ready: list[Entry]
    recheck_in: float | None
    """Seconds until the earliest waiting entry may be stable (None: nothing is waiting)."""


def is_temporary(name: str) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in TEMPORARY_PATTERNS)


class FolderScanner:
    """Finds ready entries in one watch folder (see the module docstring).

    Args:
        folder: the watch folder.
        patterns: file (or folder) name patterns, matched case-insensitively.
        kind: ``"file"``: files are sources; ``"folder"``: sub-folders are (a folder converter).
        recursive: look in sub-folders too (files only).
        exclude: folders never looked into (the done and error folders).
        stability_window: seconds an entry must stay unchanged.
        ready_marker: a suffix; an entry is taken only when ``<entry><marker>`` exists.
        folder_ready: for folder sources, a last word on whether a folder is complete.
    """

    def __init__(
        self, folder: Path, *, patterns: Sequence[str], kind: str = "file", recursive: bool = False,
        exclude: Iterable[Path] = (), stability_window: float = 0.5, ready_marker: str | None = None,
        folder_ready: Callable[[Path], bool] | None = None, clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.folder = Path(folder)
        self.patterns = tuple(pattern.lower() for pattern in patterns)
        self.kind = kind
        self.recursive = recursive and kind == "file"
        self.exclude = {os.path.normcase(os.path.abspath(path)) for path in exclude}
        self.stability_window = stability_window
        self.ready_marker = ready_marker
        self.folder_ready = folder_ready
        self._clock = clock
        self._seen: dict[Path, tuple[int, int, int, float]] = {}  # path → (count, size, mtime_ns, first seen)

    def forget(self, path: Path) -> None:
        """Judge ``path`` afresh next time (it was taken, or changed while it was read)."""
        self._seen.pop(path, None)

    def scan(self, skip: Iterable[Path] = ()) -> ScanResult:
        """Look at the folder once. ``skip``: entries being handled right now."""
        now = self._clock()
        skipped = set(skip)
        ready: list[Entry] = []
        earliest: float | None = None
        present: set[Path] = set()
        for path, is_dir in self._candidates():
            present.add(path)
            if path in skipped:
                continue
            signature = _folder_signature(path) if is_dir else _file_signature(path)
            if signature is None:
                continue  # gone, or unreadable metadata: look again next time
            count, size, mtime_ns = signature
            seen = self._seen.get(path)
            if seen is None or seen[:3] != signature:
                self._seen[path] = (count, size, mtime_ns, now)  # new or changed: the window starts now
                remaining = self.stability_window
            else:
                remaining = self.stability_window - (now - seen[3])
            if remaining > 0:
                earliest = remaining if earliest is None else min(earliest, remaining)
                continue
            if not self._complete(path, is_dir):
                continue
            ready.append(Entry(path, size, mtime_ns, is_dir))
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return ScanResult(ready, earliest)

    def _complete(self, path: Path, is_dir: bool) -> bool:
        if self.ready_marker is not None and not Path(str(path) + self.ready_marker).exists():
            return False
        if is_dir:
            return self.folder_ready(path) if self.folder_ready is not None else True
        return can_take(path)

    def _candidates(self) -> Iterable[tuple[Path, bool]]:
        if not self.folder.is_dir():
            return
        pending = [self.folder]
        while pending:
            current = pending.pop()
            try:
                with os.scandir(current) as listing:
                    entries = list(listing)
            except OSError:
                continue  # vanished or unreadable: the next scan looks again
            for entry in entries:
                name = entry.name
                if is_temporary(name) or (self.ready_marker and name.endswith(self.ready_marker)):
                    continue
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                if is_dir and os.path.normcase(os.path.abspath(entry.path)) in self.exclude:
                    continue
                if is_dir and self.recursive:
                    pending.append(Path(entry.path))
                if is_dir != (self.kind == "folder"):
                    continue
                lowered = name.lower()
                if any(fnmatch.fnmatchcase(lowered, pattern) for pattern in self.patterns):
                    yield Path(entry.path), is_dir


def _file_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return 1, stat.st_size, stat.st_mtime_ns


def _folder_signature(path: Path) -> tuple[int, int, int] | None:
    count = size = newest = 0
    try:
        newest = path.stat().st_mtime_ns
        for root, _, files in os.walk(path):
            for name in files:
                stat = os.stat(os.path.join(root, name))
                count += 1
                size += stat.st_size
                newest = max(newest, stat.st_mtime_ns)
    except OSError:
        return None
    return count, size, newest


def can_take(path: Path) -> bool:
    """Whether the file can be read now, and on Windows opened with no other process holding it open."""
    if os.name == "nt":  # pragma: no cover - Windows only
        return _exclusive_open_windows(path)
    try:
        with open(path, "rb"):
            return True
    except OSError:
        return False


def _exclusive_open_windows(path: Path) -> bool:  # pragma: no cover - Windows only
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateFileW.restype = wintypes.HANDLE
    generic_read, open_existing, no_sharing = 0x80000000, 3, 0
    handle = kernel32.CreateFileW(str(path), generic_read, no_sharing, None, open_existing, 0, None)
    if handle == wintypes.HANDLE(-1).value:
        return False  # ERROR_SHARING_VIOLATION: a writer (or a virus scanner) still has it open
    kernel32.CloseHandle(handle)
    return True


__all__ = ["TEMPORARY_PATTERNS", "Entry", "FolderScanner", "ScanResult", "can_take", "is_temporary"]
