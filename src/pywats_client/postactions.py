"""What happens to a source once its reports are safely queued (or once it failed to convert).

- ``move``: into the done folder, keeping its path below the watch folder;
- ``zip``: into ``<done>/<name>.zip`` (deflated), then removed;
- ``delete``: removed;
- ``keep``: left where it is (the queue's ledger remembers it by path, size and modification time, so it is
  not taken again unless it changes);
- a file that failed goes to the error folder with a ``<name>.error.txt`` beside it: the converter, the
  reason and the time.

A name already taken in the target folder gets a numbered suffix (``report (1).xml``): nothing is overwritten.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from .config import PostAction


def _free_name(folder: Path, name: str, *, is_dir: bool = False) -> Path:
    target = folder / name
    if not target.exists() and not target.is_symlink():
        return target
    stem, suffix = (name, "") if is_dir else (Path(name).stem, Path(name).suffix)
    for number in range(1, 100_000):
        target = folder / f"{stem} ({number}){suffix}"
        if not target.exists():
            return target
    raise FileExistsError(f"no free name for {name} in {folder}")


def _relative_folder(source: Path, watch: Path, target_root: Path) -> Path:
    try:
        relative = source.parent.relative_to(watch)
    except ValueError:
        relative = Path()
    folder = target_root / relative
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def move_into(source: Path, watch: Path, target_root: Path) -> Path:
    """Move ``source`` (file or folder) below ``target_root``; the path it got."""
    target = _free_name(_relative_folder(source, watch, target_root), source.name, is_dir=source.is_dir())
    shutil.move(str(source), str(target))
    return target


def zip_into(source: Path, watch: Path, target_root: Path) -> Path:
    """Compress ``source`` (file or folder) into ``<target>/<name>.zip``, then remove it; the archive's path."""
    target = _free_name(_relative_folder(source, watch, target_root), source.name + ".zip")
    partial = target.with_name(target.name + ".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if source.is_dir():
            for item in sorted(source.rglob("*")):
                if item.is_file():
                    archive.write(item, Path(source.name) / item.relative_to(source))
        else:
            archive.write(source, source.name)
    with open(partial, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    _remove(source)
    return target


def finish(source: Path, action: PostAction, watch: Path, done_root: Path, companions: Sequence[Path] = ()) -> Path | None:
    """Apply the post-action to a converted source (and its companions: sidecar files, the ready marker, which
    are moved or removed with it). Returns where the source went (None: deleted or kept)."""
    if action == "keep":
        return None
    if action == "delete":
        for path in (source, *companions):
            _remove(path)
        return None
    place = zip_into if action == "zip" else move_into
    result = place(source, watch, done_root)
    for companion in companions:
        if companion.exists():
            place(companion, watch, done_root)
    return result


def to_error_folder(source: Path, watch: Path, error_root: Path, *, converter: str, reason: str,
                    companions: Sequence[Path] = ()) -> Path:  # fmt: skip
    """Move a source that failed into the error folder and write ``<name>.error.txt`` beside it."""
    target = move_into(source, watch, error_root)
    for companion in companions:
        if companion.exists():
            move_into(companion, watch, error_root)
    when = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    sidecar = target.with_name(target.name + ".error.txt")
    sidecar.write_text(
        f"file: {source}\nconverter: {converter}\ntime: {when}\nreason: {reason}\n", encoding="utf-8"
    )
    return target


__all__ = ["finish", "move_into", "to_error_folder", "zip_into"]
