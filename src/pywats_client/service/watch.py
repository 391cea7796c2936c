"""File events as triggers: watchfiles tells which watch folder changed, and that intake scans at once.

Events are never the truth (a missed or coalesced event costs at most one rescan interval); they only make the
common case fast. A watch folder that does not exist yet (or a network share that went away) is looked for
again every few seconds, and watched once it is there. When file events cannot be had at all (too many inotify
watches, an unsupported file system), the watcher logs it once and the intakes rely on their periodic scans.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger("pywats_client.watch")

RECHECK_S = 5.0


async def watch_folders(folders: Callable[[], Sequence[tuple[Path, asyncio.Event]]], *, recursive: bool) -> None:
    """Set the event of every folder in which something changed, until cancelled."""
    import watchfiles

    while True:
        pairs = [(path, event) for path, event in folders() if path.is_dir()]
        # A stop event of our own: awatch sets it when it is cancelled (to end its thread), and it is set here
        # when the folders that exist change, to watch the new set.
        stop = asyncio.Event()
        checker = asyncio.create_task(_stop_when_folders_change(stop, folders, {path for path, _ in pairs}))
        try:
            if not pairs:
                await stop.wait()
                continue
            keys = [(os.path.normcase(os.path.abspath(path)), event) for path, event in pairs]
            try:
                async for changes in watchfiles.awatch(
                    *(path for path, _ in pairs), stop_event=stop, recursive=recursive, debounce=200, step=20,
                    yield_on_timeout=False, ignore_permission_denied=True, watch_filter=None,
                ):  # fmt: skip
                    for _, changed in changes:
                        where = os.path.normcase(os.path.abspath(changed))
                        for folder, event in keys:
                            if where.startswith(folder):
                                event.set()
            except (OSError, RuntimeError) as error:
                log.warning("file events are not available (%s); relying on periodic scans", error)
                await asyncio.sleep(60)
        finally:
            checker.cancel()


async def _stop_when_folders_change(stop: asyncio.Event, folders: Callable[[], Sequence[tuple[Path, asyncio.Event]]],
                                    watched: set[Path]) -> None:  # fmt: skip
    while not stop.is_set():
        await asyncio.sleep(RECHECK_S)
        existing = await asyncio.to_thread(lambda: {path for path, _ in folders() if path.is_dir()})
        if existing != watched:
            stop.set()


__all__ = ["watch_folders"]
