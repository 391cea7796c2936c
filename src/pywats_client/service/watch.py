"""File events as triggers: watchfiles tells which watch folder changed, and that intake scans at once.

Events are never the truth (a missed or coalesced event costs at most one rescan interval); they only make the
common case fast. When file events cannot be had (too many inotify watches, an unsupported file system), the
watcher logs it once and the intakes fall back on their periodic scans.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger("pywats_client.watch")


async def watch_folders(folders: Callable[[], Sequence[tuple[Path, asyncio.Event]]], *, recursive: bool) -> None:
    """Set the event of every folder in which something changed, until cancelled."""
    import watchfiles

    # A stop event of our own: awatch sets it when it is cancelled (to end its thread), and that must not be
    # anybody else's event (the service's own stop event would stop the whole service on a config reload).
    stop = asyncio.Event()
    pairs = [(path, event) for path, event in folders() if path.is_dir()]
    if not pairs:
        await stop.wait()
        return
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
        await stop.wait()


__all__ = ["watch_folders"]
